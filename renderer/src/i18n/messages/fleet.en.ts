import type { MessageTree } from '../message-types.ts';

/** Fleet view: every relay at a glance. */
export default {
  title: 'Fleet',
  description: 'Every relay with its state, queue, last hour of traffic and what needs attention.',
  add: 'Add remote relay',
  refresh: 'Refresh',
  local: 'this computer',
  tile: {
    relays: 'Relays',
    connected: 'Connected',
    ofTotal: '{n} of {total}',
    withAlerts: 'Need attention',
    queued: 'Messages queued',
  },
  table: {
    label: 'Relays',
    relay: 'Relay',
    state: 'State',
    active: 'Active',
    deferred: 'Deferred',
    held: 'Held',
    oldest: 'Oldest message',
    delivered: 'Delivered (1 h)',
    rejected: 'Rejected (1 h)',
    alerts: 'Alerts',
    empty: 'Queue empty',
  },
  alert: {
    none: 'All good',
    relayDown: 'Relay down',
    authFailed: 'SSH login failed',
    hostKeyChanged: 'Host key changed',
    hostKeyUnknown: 'Host key not confirmed',
    notInstalled: 'Relay not installed',
    versionMismatch: 'Version mismatch',
    oldDeferred: { one: '{count} deferred message older than an hour', other: '{count} deferred messages older than an hour' },
    noFigures: 'Figures unavailable',
  },
  footnote: 'Figures refresh every 15 seconds. Open a relay for its dashboard.',
} satisfies MessageTree;
