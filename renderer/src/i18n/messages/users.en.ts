import type { MessageTree } from '../message-types.ts';

/** Users page: SMTP AUTH users. */
export default {
  title: 'Users',
  description: 'Accounts that mail clients, applications and devices use to log in to the relay (SMTP authentication).',
  add: 'Add user',
  setPassword: 'Set password',
  setPasswordFor: 'Set password of {name}',
  removeUser: 'Remove {name}',
  removeTitle: 'Remove user?',
  removeBody: '{name} can no longer log in to the relay. Mail already queued stays in the queue.',
  authOff: {
    title: 'SMTP authentication is off',
    body: 'These users cannot log in until you enable SMTP authentication.',
    link: 'Mail Delivery › General',
  },
  table: {
    label: 'SMTP users',
    name: 'User name',
    senders: 'May also send as',
    created: 'Created',
    updated: 'Changed',
    actions: 'Actions',
    empty: 'No users yet. Add one for each mail program or device that signs in with SMTP authentication.',
  },
  form: {
    name: 'User name',
    nameHelp: 'Often an e-mail address; with “Sender must match the login” the user may send as this address.',
    password: 'Password',
    confirm: 'Repeat password',
    mismatch: 'The passwords do not match.',
    senders: 'May also send as (optional)',
    sendersHelp: 'Further sender addresses of this user, one per line.',
    badSender: '“{address}” is not an e-mail address (local@domain).',
  },
  done: {
    added: 'User {name} was added.',
    password: 'The password of {name} was changed.',
    removed: 'User {name} was removed.',
  },
  error: {
    exists: 'A user named {name} exists already.',
    failed: 'The relay refused: {message}',
  },
} satisfies MessageTree;
