/** The fleet view's alerts for one relay, from its live state and what its relay reported. */
import type { InstanceState } from '../../api/relay-desk.ts';

/** Kinds of alert (each has `fleet.alert.<kind>` text). */
export type AlertKind = 'relayDown' | 'authFailed' | 'hostKeyChanged' | 'oldDeferred' | 'notInstalled' | 'versionMismatch' | 'hostKeyUnknown';

export interface Alert {
  readonly kind: AlertKind;
  readonly severity: 'danger' | 'warning';
  /** For `oldDeferred`: how many deferred messages are older than an hour. */
  readonly count?: number;
}

/** Deferred mail older than this is an alert. */
export const OLD_DEFERRED_SECONDS = 3600;

/**
 * Alerts of one relay. `oldDeferred` is the count of deferred messages older than an hour (null when
 * unknown, e.g. not connected). A relay the user disconnected on purpose is not "down".
 */
export function alertsFor(state: InstanceState, oldDeferred: number | null): Alert[] {
  const out: Alert[] = [];
  switch (state.status) {
    case 'auth-failed':
      out.push({ kind: 'authFailed', severity: 'danger' });
      break;
    case 'host-key-changed':
      out.push({ kind: 'hostKeyChanged', severity: 'danger' });
      break;
    case 'host-key-unknown':
      out.push({ kind: 'hostKeyUnknown', severity: 'warning' });
      break;
    case 'relay-not-installed':
      out.push({ kind: 'notInstalled', severity: 'warning' });
      break;
    case 'version-mismatch':
      out.push({ kind: 'versionMismatch', severity: 'warning' });
      break;
    case 'relay-stopped':
    case 'failed':
      out.push({ kind: 'relayDown', severity: 'danger' });
      break;
    case 'disconnected':
      // Waiting to reconnect after losing the connection: down. Idle by choice: no alert.
      if (state.retryAt !== null || state.message) out.push({ kind: 'relayDown', severity: 'danger' });
      break;
    case 'connected':
    case 'connecting':
      break;
  }
  if (oldDeferred !== null && oldDeferred > 0) out.push({ kind: 'oldDeferred', severity: 'warning', count: oldDeferred });
  return out;
}

/** The text of each alert kind (written out for the key test). */
export const ALERT_KEYS: Record<AlertKind, string> = {
  relayDown: 'fleet.alert.relayDown',
  authFailed: 'fleet.alert.authFailed',
  hostKeyChanged: 'fleet.alert.hostKeyChanged',
  hostKeyUnknown: 'fleet.alert.hostKeyUnknown',
  notInstalled: 'fleet.alert.notInstalled',
  versionMismatch: 'fleet.alert.versionMismatch',
  oldDeferred: 'fleet.alert.oldDeferred',
};
