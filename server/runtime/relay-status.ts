/** `status`: what the dashboard and the fleet view show about one relay at a glance. */
import os from 'node:os';
import { configRevision } from '../control/config-access.ts';
import { messageState } from '../control/queue-view.ts';
import { RELAY_VERSION } from '../control/relay-version.ts';
import { PROTOCOL_VERSION, type MethodResult } from '../protocol/index.ts';
import type { QueueEntry } from '../queue/types.ts';
import type { Relay } from './relay.ts';

/** What `status` needs from the relay. */
export type StatusHost = Pick<Relay, 'dataDir' | 'config' | 'ports' | 'spool' | 'startedAt' | 'activity'>;

/** Messages per state and the age of the oldest one. */
export function queueCounts(entries: Iterable<QueueEntry>, now: number): MethodResult<'status'>['queue'] {
  const counts = { active: 0, deferred: 0, held: 0, total: 0 };
  let oldest = Infinity;
  for (const e of entries) {
    counts[messageState(e)]++;
    counts.total++;
    if (e.envelope.receivedAt < oldest) oldest = e.envelope.receivedAt;
  }
  return { ...counts, oldestAgeSeconds: counts.total ? Math.max(0, (now - oldest) / 1000) : null };
}

export function relayStatus(relay: StatusHost, now = Date.now()): MethodResult<'status'> {
  const config = relay.config();
  const ports = relay.ports();
  return {
    version: RELAY_VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    startedAt: relay.startedAt,
    uptimeSeconds: Math.max(0, (now - relay.startedAt) / 1000),
    hostname: os.hostname(),
    platform: process.platform,
    nodeVersion: process.version,
    dataDir: relay.dataDir,
    configRevision: configRevision(config),
    listeners: config.listeners.map((l) => {
      const port = ports[l.name];
      return {
        name: l.name,
        host: l.host,
        port: port ?? l.port,
        tls: l.tls,
        listening: port !== undefined,
        error: port === undefined ? `${l.host}:${l.port} is not listening` : null,
      };
    }),
    queue: queueCounts(relay.spool.entries(), now),
    activity: relay.activity(),
  };
}
