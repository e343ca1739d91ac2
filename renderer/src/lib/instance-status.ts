/** How an instance's status looks: a tone for colour and the i18n key of its label. */
import type { InstanceStatus } from '../api/relay-desk.ts';

/** Colour family of a status. */
export type StatusTone = 'success' | 'progress' | 'neutral' | 'warning' | 'danger';

const TONES: Record<InstanceStatus, StatusTone> = {
  connected: 'success',
  connecting: 'progress',
  disconnected: 'neutral',
  'host-key-unknown': 'warning',
  'relay-not-installed': 'warning',
  'relay-stopped': 'warning',
  'version-mismatch': 'warning',
  'auth-failed': 'danger',
  'host-key-changed': 'danger',
  failed: 'danger',
};

export function statusTone(status: InstanceStatus): StatusTone {
  return TONES[status];
}

/** i18n key of a status label (`common.status.<status>`). */
export function statusKey(status: InstanceStatus): string {
  return `common.status.${status}`;
}

/** The name to show: the local relay's name is translated, remote relays keep the name the user gave. */
export function instanceDisplayName(instance: { kind: 'local' | 'remote'; name: string }, t: (key: string) => string): string {
  return instance.kind === 'local' ? t('connection.local.title') : instance.name;
}
