import type { Translation } from '../message-types.ts';
import type en from './users.en.ts';

export default {
  title: 'Benutzer',
  description: 'Konten, mit denen sich E-Mail-Programme, Anwendungen und Geräte am Relay anmelden (SMTP-Authentifizierung).',
  add: 'Benutzer hinzufügen',
  setPassword: 'Passwort ändern',
  setPasswordFor: 'Passwort von {name} ändern',
  removeUser: '{name} entfernen',
  removeTitle: 'Benutzer entfernen?',
  removeBody: '{name} kann sich nicht mehr am Relay anmelden. Bereits angenommene E-Mails bleiben in der Warteschlange.',
  authOff: {
    title: 'SMTP-Authentifizierung ist ausgeschaltet',
    body: 'Diese Benutzer können sich erst anmelden, wenn Sie die SMTP-Authentifizierung aktivieren.',
    link: 'Mailübermittlung › Allgemein',
  },
  table: {
    label: 'SMTP-Benutzer',
    name: 'Benutzername',
    senders: 'Darf auch senden als',
    created: 'Angelegt',
    updated: 'Geändert',
    actions: 'Aktionen',
    empty: 'Noch keine Benutzer. Legen Sie für jedes E-Mail-Programm und Gerät, das sich per SMTP-Authentifizierung anmeldet, einen an.',
  },
  form: {
    name: 'Benutzername',
    nameHelp: 'Oft eine E-Mail-Adresse; mit „Absender muss mit dem Anmeldenamen übereinstimmen“ darf der Benutzer mit dieser Adresse senden.',
    password: 'Passwort',
    confirm: 'Passwort wiederholen',
    mismatch: 'Die Passwörter stimmen nicht überein.',
    senders: 'Darf auch senden als (optional)',
    sendersHelp: 'Weitere Absenderadressen dieses Benutzers, eine pro Zeile.',
    badSender: '„{address}“ ist keine E-Mail-Adresse (lokal@domain).',
  },
  done: {
    added: 'Benutzer {name} wurde hinzugefügt.',
    password: 'Das Passwort von {name} wurde geändert.',
    removed: 'Benutzer {name} wurde entfernt.',
  },
  error: {
    exists: 'Ein Benutzer namens {name} existiert bereits.',
    failed: 'Das Relay hat abgelehnt: {message}',
  },
} satisfies Translation<typeof en>;
