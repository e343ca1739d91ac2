import type { Translation } from '../message-types.ts';
import type en from './settings.en.ts';

export default {
  loadFailed: 'Die Konfiguration konnte nicht vom Relay gelesen werden',
  apply: {
    noChanges: 'Keine Änderungen',
    unapplied: 'Sie haben nicht übernommene Änderungen',
    applying: 'Wird übernommen…',
    applied: 'Einstellungen übernommen',
    issues: { one: '{count} Feld muss korrigiert werden', other: '{count} Felder müssen korrigiert werden' },
    failed: 'Das Relay hat die Einstellungen abgelehnt: {message}',
    shortcut: 'Übernehmen (Strg+S)',
  },
  conflict: {
    title: 'Die Konfiguration wurde zwischenzeitlich geändert',
    body: 'Jemand anderes hat die Konfiguration von {name} geändert, nachdem Sie diese Seite geöffnet haben. Ihre Änderungen wurden daher nicht übernommen.',
    reload: 'Neu laden',
    reloadHint: 'Ihre Änderungen verwerfen und die aktuelle Konfiguration anzeigen.',
    overwrite: 'Überschreiben',
    overwriteHint: 'Ihre Änderungen auf die aktuelle Konfiguration anwenden. Einstellungen, die Sie nicht geändert haben, behalten die andere Änderung; wo Sie beide etwas geändert haben, gilt Ihre.',
  },
  unit: {
    seconds: 'Sekunden',
    hours: 'Stunden',
    attempts: 'Versuche',
    recipients: 'Empfänger',
    connections: 'Verbindungen',
    messages: 'Nachrichten',
    errors: 'Fehler',
  },
  rate: {
    atMost: 'Höchstens',
    per: 'pro',
  },
  relayHost: {
    host: 'Server',
    port: 'Port',
    securityLabel: 'Verschlüsselung',
    securityHelp: 'STARTTLS verschlüsselt eine zunächst unverschlüsselte Verbindung (meist Port 587); SSL/TLS verschlüsselt von Anfang an (meist Port 465).',
    security: {
      starttls: 'STARTTLS',
      tls: 'SSL/TLS',
      none: 'Keine (nicht empfohlen)',
    },
    verifyCertificate: 'Serverzertifikat überprüfen',
    verifyCertificateHelp: 'Nicht senden, wenn das Zertifikat für diesen Servernamen nicht gültig ist. Nur für einen Server mit selbstsigniertem Zertifikat im eigenen Netzwerk deaktivieren.',
    username: 'Benutzername',
    usernameHelp: 'Leer lassen, wenn der Relay-Server keine Anmeldung verlangt.',
    password: 'Passwort',
    newPassword: 'Neues Passwort',
    newPasswordHelp: 'Leer lassen, um das gespeicherte Passwort zu entfernen.',
    keepPassword: 'Aktuelles Passwort beibehalten',
    keepPasswordHelp: 'Auf dem Relay ist ein Passwort gespeichert. Es wird nie angezeigt; deaktivieren Sie diese Option, um es zu ersetzen.',
  },
} satisfies Translation<typeof en>;
