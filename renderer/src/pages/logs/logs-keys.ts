/** The logs page's i18n keys that depend on a value, written out (see logs-keys.test.ts). */
import type { EventName } from './logs-model.svelte.ts';

export const EVENT_KEYS: Record<EventName, string> = {
  start: 'logs.event.start',
  stop: 'logs.event.stop',
  reload: 'logs.event.reload',
  connect: 'logs.event.connect',
  disconnect: 'logs.event.disconnect',
  auth: 'logs.event.auth',
  reject: 'logs.event.reject',
  discard: 'logs.event.discard',
  queued: 'logs.event.queued',
  delivered: 'logs.event.delivered',
  deferred: 'logs.event.deferred',
  bounced: 'logs.event.bounced',
  expired: 'logs.event.expired',
  dsn: 'logs.event.dsn',
  error: 'logs.event.error',
  control: 'logs.event.control',
};

/** pino's level names, as the relay sends them. */
export const LEVEL_KEYS: Record<string, string> = {
  trace: 'logs.level.trace',
  debug: 'logs.level.debug',
  info: 'logs.level.info',
  warn: 'logs.level.warn',
  error: 'logs.level.error',
  fatal: 'logs.level.fatal',
};

/** Time-range presets of the search. */
export const PRESET_KEYS = {
  '15m': 'logs.search.preset.15m',
  '1h': 'logs.search.preset.1h',
  '24h': 'logs.search.preset.24h',
  '7d': 'logs.search.preset.7d',
  custom: 'logs.search.preset.custom',
} as const;

export const LOGS_COMPUTED_KEYS: string[] = [...Object.values(EVENT_KEYS), ...Object.values(LEVEL_KEYS), ...Object.values(PRESET_KEYS)];
