/**
 * The relay behind the control socket: every method of the contract as a call on the running
 * relay's parts. This file only assembles; each group of methods lives in its own module.
 */
import path from 'node:path';
import type { RelayControlApi } from '../control/relay-control-api.ts';
import { logHandlers, statsHandlers, userHandlers } from '../control/standard-handlers.ts';
import { checkDnsSetup } from '../delivery/dns-check.ts';
import { sendTestMessage } from '../delivery/test-send.ts';
import { configHandlers } from './config-handlers.ts';
import { queueHandlers } from './queue-handlers.ts';
import { relayStatus } from './relay-status.ts';
import type { Relay } from './relay.ts';

/** What the control API needs from the relay. */
export type ControlledRelay = Pick<
  Relay,
  'dataDir' | 'configFile' | 'log' | 'spool' | 'flow' | 'stats' | 'users' | 'config' | 'ports' | 'reload' | 'applyConfig' | 'requestStop' | 'startedAt' | 'activity'
>;

export interface RelayControlApiOptions {
  /** Port for direct MX / next-hop delivery in `test.send` (as the deliverer: 25 unless MAILRELAY_DIRECT_PORT says otherwise). */
  directPort?: number;
}

export function createRelayControlApi(relay: ControlledRelay, opts: RelayControlApiOptions = {}): RelayControlApi {
  const envPort = Number(process.env.MAILRELAY_DIRECT_PORT);
  const directPort = opts.directPort ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : 25);
  return {
    ...userHandlers(relay.users),
    ...statsHandlers(relay.stats),
    ...logHandlers(path.join(relay.dataDir, 'logs'), relay.log),
    ...configHandlers(relay),
    ...queueHandlers(relay),
    status: async () => relayStatus(relay),
    'test.send': (p) => sendTestMessage(p, { config: relay.config(), directPort }),
    'dns.check': () => checkDnsSetup(relay.config()),
    'service.stop': async () => {
      // Answer first: the reply is written as soon as this resolves; the stop begins a moment later.
      setTimeout(() => relay.requestStop(), 50);
      return { stopping: true };
    },
  };
}
