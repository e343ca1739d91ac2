/**
 * `config.get|validate|apply` and `service.reload` on the running relay (SPEC §1.7). A write is
 * validated, checked against the base revision, saved atomically and only then activated; when
 * activation fails (a listener cannot bind, a certificate cannot be read) the relay has already
 * put its old listeners back and the old file is restored, so file and running config never part.
 * Writes run one at a time: of two clients with the same base revision one wins, the other gets
 * CONFLICT.
 */
import { promises as fs } from 'node:fs';
import { ConfigFileError, saveConfigFile } from '../config/config-file.ts';
import type { RelayConfig } from '../config/schema.ts';
import { checkConfigWrite, configRevision, redactConfig, resolveConfigWrite } from '../control/config-access.ts';
import type { RelayControlApi } from '../control/relay-control-api.ts';
import { ControlError } from '../protocol/index.ts';
import { writeFileAtomic } from '../queue/atomic-file.ts';
import { ListenerBindError } from '../smtp/smtp-listeners.ts';
import type { Relay } from './relay.ts';

/** What the config handlers need from the relay. */
export type ConfigHost = Pick<Relay, 'configFile' | 'config' | 'applyConfig' | 'reload' | 'log'>;

type ConfigHandlers = Pick<RelayControlApi, 'config.get' | 'config.validate' | 'config.apply' | 'service.reload'>;

/** Runs async jobs strictly one after another. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const p = this.tail.then(job, job);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

/** The config handlers of one relay. */
export function configHandlers(relay: ConfigHost): ConfigHandlers {
  const writes = new SerialQueue();

  async function apply(next: RelayConfig, via: string): Promise<string> {
    const previous = await readRaw(relay.configFile);
    try {
      await saveConfigFile(relay.configFile, next);
    } catch (err) {
      // The atomic write leaves the old file in place: nothing changed, on disk or live.
      throw new ControlError('UNAVAILABLE', `cannot save the config to ${relay.configFile} (${(err as Error).message}); nothing was changed`);
    }
    try {
      await relay.applyConfig(next);
    } catch (err) {
      await restore(relay.configFile, previous);
      relay.log.event('reload', { ok: false, via, error: (err as Error).message, rolledBack: true }, 'error');
      throw activationError(err);
    }
    const revision = configRevision(relay.config());
    relay.log.event('reload', { ok: true, via, revision });
    return revision;
  }

  return {
    'config.get': async () => {
      const config = relay.config();
      return { config: redactConfig(config), revision: configRevision(config) };
    },
    'config.validate': async (p) => {
      const r = checkConfigWrite(p.config, relay.config());
      return r.ok ? { ok: true, issues: [] } : { ok: false, issues: r.issues };
    },
    'config.apply': (p) =>
      writes.run(async () => {
        const current = relay.config();
        const next = resolveConfigWrite(p.config, current);
        const revision = configRevision(current);
        if (p.baseRevision !== revision) {
          throw new ControlError('CONFLICT', `the config was changed meanwhile (revision ${revision}, yours is based on ${p.baseRevision}); load it again and reapply your changes`);
        }
        return { revision: await apply(next, 'config.apply') };
      }),
    'service.reload': () =>
      writes.run(async () => {
        try {
          await relay.reload();
        } catch (err) {
          relay.log.event('reload', { ok: false, via: 'service.reload', error: (err as Error).message }, 'error');
          throw activationError(err);
        }
        return { revision: configRevision(relay.config()) };
      }),
  };
}

/** The error a client sees when a config could not be activated. */
function activationError(err: unknown): ControlError {
  if (err instanceof ControlError) return err;
  if (err instanceof ListenerBindError) return new ControlError('BIND_FAILED', `${err.message}; the previous listeners and config are back in place`);
  if (err instanceof ConfigFileError) return new ControlError('CONFIG_INVALID', err.message, err.issues);
  return new ControlError('CONFIG_INVALID', `the config could not be activated and was rolled back: ${(err as Error)?.message ?? String(err)}`);
}

async function readRaw(file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Put the file back as it was before the failed write (byte for byte, comments and all). */
async function restore(file: string, previous: Buffer | null): Promise<void> {
  if (previous === null) await fs.rm(file, { force: true });
  else await writeFileAtomic(file, previous, 0o600);
}
