/**
 * One relay per data dir: a second one would open the same spool (and discard the first one's
 * messages in flight as leftovers), so it must stop before touching anything. A relay that answers
 * on the data dir's control socket is running; a dead socket file is left for the control server
 * to clear. (Two relays starting in the same instant are caught later, when the second cannot take
 * the control socket.)
 */
import net from 'node:net';
import { controlSocketPath } from '../control/control-key.ts';

/** Whether a relay answers on the control socket of `dataDir`. */
export function relayAnswers(dataDir: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(controlSocketPath(dataDir));
    const done = (alive: boolean): void => {
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(timeoutMs, () => done(true));
  });
}
