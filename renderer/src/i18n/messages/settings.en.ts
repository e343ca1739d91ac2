import type { MessageTree } from '../message-types.ts';

/** The frame shared by the settings pages: Apply bar, conflict dialog, units. */
export default {
  loadFailed: 'Could not read the configuration from the relay',
  apply: {
    noChanges: 'No changes',
    unapplied: 'You have unapplied changes',
    applying: 'Applying…',
    applied: 'Settings applied',
    issues: { one: '{count} field needs your attention', other: '{count} fields need your attention' },
    failed: 'The relay refused the settings: {message}',
    shortcut: 'Apply (Ctrl+S)',
  },
  conflict: {
    title: 'The configuration was changed meanwhile',
    body: 'Someone else changed the configuration of {name} after you opened this page, so your changes were not applied.',
    reload: 'Reload',
    reloadHint: 'discard your changes and show the current configuration.',
    overwrite: 'Overwrite',
    overwriteHint: 'apply your changes on top of the current configuration. Settings you did not change keep the other change; yours replace it where you both changed something.',
  },
  unit: {
    seconds: 'seconds',
    hours: 'hours',
    attempts: 'attempts',
    recipients: 'recipients',
    connections: 'connections',
    messages: 'messages',
    errors: 'errors',
  },
  rate: {
    atMost: 'At most',
    per: 'per',
  },
  relayHost: {
    host: 'Server',
    port: 'Port',
    securityLabel: 'Encryption',
    securityHelp: 'STARTTLS upgrades a plain connection (usually port 587); SSL/TLS encrypts from the start (usually port 465).',
    security: {
      starttls: 'STARTTLS',
      tls: 'SSL/TLS',
      none: 'None (not recommended)',
    },
    verifyCertificate: 'Verify the server certificate',
    verifyCertificateHelp: 'Refuse to send when the certificate is not valid for this server name. Turn off only for a server with a self-signed certificate in your own network.',
    username: 'User name',
    usernameHelp: 'Leave empty when the relay host does not require authentication.',
    password: 'Password',
    newPassword: 'New password',
    newPasswordHelp: 'Leave empty to remove the stored password.',
    keepPassword: 'Keep current password',
    keepPasswordHelp: 'A password is stored on the relay. It is never shown; clear this option to replace it.',
  },
} satisfies MessageTree;
