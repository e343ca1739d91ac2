/**
 * The parts of RelayControlApi that need nothing but the user store, the stats and the log: the
 * relay's wiring spreads these into its api object and writes only the queue, config and service
 * handlers itself.
 */
import type { RelayLog } from '../logging/relay-log.ts';
import { queryLogs } from '../logging/log-query.ts';
import { logLineSchema } from '../protocol/index.ts';
import type { Stats } from '../stats/stats.ts';
import type { UserStore } from '../users/user-store.ts';
import type { RelayControlApi } from './relay-control-api.ts';

/** users.list / add / remove / setPassword on a UserStore. */
export function userHandlers(store: UserStore): Pick<RelayControlApi, 'users.list' | 'users.add' | 'users.remove' | 'users.setPassword'> {
  return {
    'users.list': async () => ({ users: await store.list() }),
    'users.add': async (p) => ({ user: await store.add(p.name, p.password, p.allowedSenders) }),
    'users.remove': async (p) => {
      await store.remove(p.name);
      return { removed: true };
    },
    'users.setPassword': async (p) => ({ user: await store.setPassword(p.name, p.password) }),
  };
}

/** stats.get on Stats. */
export function statsHandlers(stats: Stats): Pick<RelayControlApi, 'stats.get'> {
  return { 'stats.get': async (p) => stats.query(p.from, p.to, p.step) };
}

/** logs.query over the log directory, and the live feed for logs.subscribe from the RelayLog. */
export function logHandlers(logDir: string, log: Pick<RelayLog, 'lines' | 'flush'>): Pick<RelayControlApi, 'logs.query' | 'subscribeLogs'> {
  return {
    // The log file is written in buffered chunks: flush first, so a query sees the latest events.
    'logs.query': async (p) => {
      await log.flush();
      return queryLogs(logDir, p);
    },
    subscribeLogs(listener) {
      // One listener per subscribed control connection (up to the connection cap).
      if (log.lines.getMaxListeners() < 100) log.lines.setMaxListeners(100);
      const onLine = (line: Record<string, unknown>): void => {
        const r = logLineSchema.safeParse(line);
        if (r.success) listener(r.data);
      };
      log.lines.on('line', onLine);
      return () => log.lines.off('line', onLine);
    },
  };
}
