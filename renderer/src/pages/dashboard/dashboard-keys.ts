/** The dashboard's i18n keys that depend on a value, written out (see dashboard-keys.test.ts). */
import type { CounterName } from '../../../../server/protocol/index.ts';
import type { RangeId } from './dashboard-data.svelte.ts';

export const COUNTER_KEYS: Record<CounterName, string> = {
  received: 'dashboard.counter.received',
  delivered: 'dashboard.counter.delivered',
  deferred: 'dashboard.counter.deferred',
  bounced: 'dashboard.counter.bounced',
  rejected: 'dashboard.counter.rejected',
};

export const RANGE_KEYS: Record<RangeId, string> = {
  '1h': 'dashboard.range.1h',
  '24h': 'dashboard.range.24h',
  '7d': 'dashboard.range.7d',
};

export const DASHBOARD_COMPUTED_KEYS: string[] = [...Object.values(COUNTER_KEYS), ...Object.values(RANGE_KEYS)];
