/** `mailrelay serve`: run the relay in the foreground until a signal stops it. */
import { startRelay, type Relay } from '../runtime/relay.ts';

export async function runServe(opts: { dataDir: string; configFile?: string }): Promise<number> {
  const relay: Relay = await startRelay({ dataDir: opts.dataDir, configFile: opts.configFile, echoLog: true });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      relay.log.event('stop', { signal });
      relay.stop().then(
        () => resolve(0),
        (err: Error) => {
          process.stderr.write(`mailrelay: error while stopping: ${err.message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      relay.reload().catch((err: Error) => relay.log.event('reload', { ok: false, error: err.message }, 'error'));
    });
    relay.onStopRequested(() => stop('service.stop'));
  });
}
