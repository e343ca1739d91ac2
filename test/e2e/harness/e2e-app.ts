/**
 * One running app for an e2e test: the REAL services (`createAppServices`, conf-backed store, the
 * test secret box) driving a REAL local relay (the bundle as a child process, data in a temp dir),
 * the built renderer served with the WebSocket bridge, and a Chromium page on it. `close()` stops
 * everything it started and removes its temp dirs.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openLocalControl, type ClientMethodName } from '../../../server/control/control-client.ts';
import { RELAY_VERSION } from '../../../server/control/relay-version.ts';
import type { MethodParams, MethodResult } from '../../../server/protocol/index.ts';
import { createAppServices, type AppServices, type AppServicesDeps } from '../../../electron/services/app-services.ts';
import { createConfStore } from '../../../electron/services/key-value-store.ts';
import { PlaintextTestSecretBox } from '../../../electron/services/secret-box.ts';
import { freePort } from '../../support/free-port.ts';
import { RELAY_BUNDLE } from '../../support/relay-process.ts';
import { makeTempDir, type TempDir } from '../../support/temp-dir.ts';
import { waitFor } from '../../support/wait-for.ts';
import { startBridgeServer, type BridgeServer } from './bridge-server.ts';
import { launchAppBrowser, type AppBrowser } from './browser.ts';

export const RENDERER_DIST = path.resolve('renderer/dist');

export interface E2eAppOptions {
  /** The local relay's config (partial; the harness adds a listener on a free port unless given). */
  localConfig?: Record<string, unknown>;
  /** Before the services start: e.g. fill the local relay's spool. */
  prepare?: (localDataDir: string) => void | Promise<void>;
  /** Extra deps for createAppServices. */
  deps?: Partial<AppServicesDeps>;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Don't wait for the local relay to be connected. */
  noWait?: boolean;
}

export interface E2eApp {
  readonly dir: TempDir;
  readonly services: AppServices;
  readonly server: BridgeServer;
  readonly browser: AppBrowser;
  readonly page: Page;
  readonly localDataDir: string;
  /** The local relay's SMTP port (127.0.0.1). */
  readonly smtpPort: number;
  /** A port nothing listens on: the relay host of the default config, so mail stays deferred. */
  readonly closedPort: number;
  /** Call the local relay's control socket directly, behind the UI's back. */
  ctl<M extends ClientMethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  close(): Promise<void>;
}

/** The local relay's config for e2e runs: plain SMTP, only 127.0.0.1 trusted, a dead relay host. */
export function e2eRelayConfig(smtpPort: number, closedPort: number): Record<string, unknown> {
  return {
    listeners: [{ name: 'smtp', host: '127.0.0.1', port: smtpPort, tls: 'none' }],
    general: { profile: { domain: 'relay.test', hostname: 'relay.test' } },
    relayControl: { trustedNetworks: [{ name: 'Loopback', network: '127.0.0.1/32' }] },
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: closedPort, security: 'none', username: '', password: '', verifyCertificate: false } },
    dns: { internal: ['127.0.0.1:1'], external: ['127.0.0.1:1'] },
  };
}

export async function startE2eApp(opts: E2eAppOptions = {}): Promise<E2eApp> {
  const dir = makeTempDir('relaydesk-e2e-');
  const cleanups: Array<() => Promise<void> | void> = [() => dir.remove()];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  };
  try {
    const appData = path.join(dir.path, 'app-data');
    const localDataDir = path.join(appData, 'local-relay');
    mkdirSync(localDataDir, { recursive: true, mode: 0o700 });
    const smtpPort = await freePort();
    const closedPort = await freePort();
    writeFileSync(path.join(localDataDir, 'config.json'), JSON.stringify({ ...e2eRelayConfig(smtpPort, closedPort), ...opts.localConfig }, null, 2), { mode: 0o600 });
    await opts.prepare?.(localDataDir);

    const services = createAppServices({
      store: createConfStore(appData),
      secrets: new PlaintextTestSecretBox(path.join(appData, 'test-secrets.json')),
      relayBundlePath: RELAY_BUNDLE,
      localDataDir,
      nodeRuntime: { execPath: process.execPath },
      appVersion: '0.1.0-e2e',
      bundledRelayVersion: RELAY_VERSION,
      platform: 'linux',
      sshAgent: undefined,
      knownHostsFiles: [],
      localRelay: { stderrFile: path.join(appData, 'local-relay.stderr.log') },
      ...opts.deps,
    });
    cleanups.push(() => services.shutdown());
    await services.start();

    const server = await startBridgeServer(RENDERER_DIST, services);
    cleanups.push(() => server.close());
    const browser = await launchAppBrowser({ viewport: opts.viewport, colorScheme: opts.colorScheme });
    cleanups.push(() => browser.close());
    const page = await browser.openApp(`${server.origin}/index.html`, server.bridgeUrl);
    if (!opts.noWait) await waitFor('the local relay to be connected', () => services.local.state.status === 'connected', 30_000);

    return {
      dir,
      services,
      server,
      browser,
      page,
      localDataDir,
      smtpPort,
      closedPort,
      async ctl(method, params) {
        const client = await openLocalControl(localDataDir);
        try {
          return await client.call(method, params);
        } finally {
          await client.close();
        }
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
