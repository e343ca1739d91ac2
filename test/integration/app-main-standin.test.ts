/**
 * STANDS IN FOR ELECTRON: the real main-process bundle (electron/main/main.ts, bundled by esbuild as
 * for the app) runs under plain Node with a recording stand-in for the `electron` module, because
 * the Electron binary is not available here. It checks the wiring Electron would exercise: window
 * security options, the app:// scheme with its CSP, blocked remote requests, the IPC handlers
 * (sender frame check, validation, results as data), event forwarding, the local relay started by
 * main, and a clean quit that stops it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_PREFIX, ipcCalls, type Result } from '../../electron/ipc-contract.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

type Fn = (...args: never[]) => unknown;
interface Frame {
  url: string;
}

/** What the stand-in recorded. */
const rec = {
  appHandlers: new Map<string, Fn[]>(),
  windows: [] as StandInWindow[],
  ipc: new Map<string, (event: { senderFrame: Frame | null }, args: unknown) => Promise<unknown>>(),
  schemes: [] as unknown[],
  protocolHandler: null as ((req: Request) => Promise<Response>) | null,
  beforeRequest: null as { filter: { urls: string[] }; fn: (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void } | null,
  permissionHandler: null as ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void) | null,
  menu: null as unknown,
  trayMenus: [] as unknown[],
  messageBoxes: [] as unknown[],
  openDialogs: [] as unknown[],
  quitCalls: 0,
  exitCode: null as number | null,
  userData: '',
};

class StandInWindow {
  readonly sent: [string, unknown][] = [];
  readonly events = new Map<string, Fn>();
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  loaded = '';
  readonly webContents = {
    mainFrame: { url: 'app://relay-desk/index.html' } as Frame,
    on: (ev: string, fn: Fn) => void this.events.set(ev, fn),
    setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => void (this.openHandler = fn),
    send: (channel: string, payload: unknown) => void this.sent.push([channel, payload]),
  };
  constructor(readonly options: { webPreferences: Record<string, unknown> }) {
    rec.windows.push(this);
  }
  once(): void {}
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return false;
  }
  static getAllWindows(): StandInWindow[] {
    return rec.windows;
  }
}

function electronStandIn(userData: string) {
  rec.userData = userData;
  const app = {
    setName: () => {},
    setPath: () => {},
    getPath: (name: string) => (name === 'userData' ? userData : path.join(userData, '..', name)),
    getVersion: () => '0.1.0',
    getLocale: () => 'en-US',
    getPreferredSystemLanguages: () => ['en-US', 'de-DE'],
    isPackaged: false,
    requestSingleInstanceLock: () => true,
    on: (ev: string, fn: Fn) => void rec.appHandlers.set(ev, [...(rec.appHandlers.get(ev) ?? []), fn]),
    whenReady: () => Promise.resolve(),
    quit: () => {
      rec.quitCalls++;
      const event = { defaultPrevented: false, preventDefault() {
        this.defaultPrevented = true;
      } };
      for (const fn of rec.appHandlers.get('before-quit') ?? []) (fn as (e: unknown) => void)(event);
    },
    exit: (code: number) => void (rec.exitCode = code),
  };
  const Menu = { buildFromTemplate: (template: unknown) => ({ template }), setApplicationMenu: (m: unknown) => void (rec.menu = m) };
  return {
    app,
    BrowserWindow: StandInWindow,
    Menu,
    Tray: class {
      setToolTip(): void {}
      on(): void {}
      setContextMenu(m: unknown): void {
        rec.trayMenus.push(m);
      }
      destroy(): void {}
    },
    nativeImage: { createFromPath: () => ({}), createEmpty: () => ({}) },
    ipcMain: {
      handle: (channel: string, fn: never) => void rec.ipc.set(channel, fn),
      removeHandler: (channel: string) => void rec.ipc.delete(channel),
      on: () => {}, // electron-store's own channel
    },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => void rec.schemes.push(...s) },
    session: {
      defaultSession: {
        protocol: { handle: (_scheme: string, fn: never) => void (rec.protocolHandler = fn) },
        webRequest: { onBeforeRequest: (filter: never, fn: never) => void (rec.beforeRequest = { filter, fn }) },
        setPermissionRequestHandler: (fn: never) => void (rec.permissionHandler = fn),
        setPermissionCheckHandler: () => {},
      },
    },
    net: { fetch: async (url: string) => new Response(readFileSync(new URL(url))) },
    dialog: {
      showOpenDialog: async (...args: unknown[]) => (rec.openDialogs.push(args.at(-1)), { canceled: true, filePaths: [] }),
      showMessageBoxSync: (_win: unknown, options: unknown) => (rec.messageBoxes.push(options), 1),
      showErrorBox: () => {},
    },
    safeStorage: {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptString: (s: string) => Buffer.from(s).map((b) => b ^ 0x33),
      decryptString: (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x33)).toString(),
    },
    shell: { openExternal: async () => {} },
  };
}

/** Every label in a recorded menu ({template}), depth first; separators have none. */
function menuLabels(menu: unknown): string[] {
  const walk = (items: unknown): string[] =>
    (items as { label?: string; submenu?: unknown }[]).flatMap((i) => [...(i.label ? [i.label] : []), ...(Array.isArray(i.submenu) ? walk(i.submenu) : [])]);
  return walk((menu as { template: unknown }).template);
}

let tmp: TempDir;
let win: StandInWindow;
let standIn: ReturnType<typeof electronStandIn>;
const own = (): { senderFrame: Frame } => ({ senderFrame: win.webContents.mainFrame });
async function call(channel: string, args: unknown, event: { senderFrame: Frame | null } = own()): Promise<Result<unknown>> {
  const h = rec.ipc.get(IPC_PREFIX + channel);
  if (!h) throw new Error(`no handler for ${channel}`);
  return (await h(event, args)) as Result<unknown>;
}

beforeAll(async () => {
  if (!existsSync(RELAY_BUNDLE)) throw new Error(`${RELAY_BUNDLE} is missing: run "npm run build:relay" first`);
  tmp = makeTempDir('app-main-standin-');
  // app root layout as in the package: <root>/out/main/main.mjs, <root>/dist/mailrelay.mjs
  const root = path.join(tmp.path, 'app');
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'dist', 'mailrelay.mjs'), readFileSync(RELAY_BUNDLE));
  mkdirSync(path.join(root, 'renderer', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'renderer', 'dist', 'index.html'), '<!doctype html><title>stand-in</title>');
  const userData = path.join(tmp.path, 'userData');
  mkdirSync(path.join(userData, 'relay'), { recursive: true });
  // The local relay main starts: SMTP on a free port (2525 may be in use).
  writeFileSync(path.join(userData, 'relay', 'config.json'), JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port: await freePort(), tls: 'none' }] }));

  standIn = electronStandIn(userData);
  (globalThis as Record<string, unknown>).__electronStandIn = standIn;
  const outfile = path.join(root, 'out', 'main', 'main.mjs');
  await build({
    entryPoints: ['electron/main/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
    external: ['cpu-features', '*.node'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'electron-stand-in',
        setup(b) {
          b.onResolve({ filter: /^electron$/ }, () => ({ path: 'electron', namespace: 'stand-in' }));
          b.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({
            contents: `const e = globalThis.__electronStandIn; export default e; export const { app, BrowserWindow, Menu, Tray, nativeImage, ipcMain, protocol, session, net, dialog, safeStorage, shell } = e;`,
            loader: 'js',
          }));
        },
      },
    ],
  });
  await import(pathToFileURL(outfile).href);
  win = await waitFor('the main window', () => rec.windows[0]);
}, 60_000);

afterAll(async () => {
  // In case a test failed before the quit test: stop the local relay.
  if (rec.quitCalls === 0 && rec.windows[0]) await call('connection.disconnect', { instanceId: 'local' }).catch(() => {});
  tmp?.remove();
});

describe('main process with Electron stood in', () => {
  it('opens one window with context isolation, sandbox, no Node, our preload, and our own page', () => {
    expect(rec.windows).toHaveLength(1);
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, webviewTag: false });
    expect(String(win.options.webPreferences.preload)).toMatch(/out[\\/]preload[\\/]preload\.cjs$/);
    expect(win.loaded).toBe('app://relay-desk/index.html');
    expect(rec.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
    expect(rec.menu).toBeTruthy();
  });

  it('serves the renderer over app:// with a strict CSP, and nothing outside it', async () => {
    const ok = await rec.protocolHandler!(new Request('app://relay-desk/index.html'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('stand-in');
    const csp = ok.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    // URL parsing already folds "%2e%2e" into the root; an encoded backslash is refused outright.
    expect((await rec.protocolHandler!(new Request('app://relay-desk/%2e%2e/%2e%2e/etc/passwd'))).status).toBe(404);
    expect((await rec.protocolHandler!(new Request('app://relay-desk/a%5c..%5c..%5cetc%5cpasswd'))).status).toBe(400);
    expect((await rec.protocolHandler!(new Request('app://relay-desk/nope.js'))).status).toBe(404);
  });

  it('blocks remote requests, permissions, navigation and new windows', () => {
    expect(rec.beforeRequest!.filter.urls).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*']));
    let cancelled: boolean | undefined;
    rec.beforeRequest!.fn({ url: 'https://cdn.example/x.js' }, (r) => (cancelled = r.cancel));
    expect(cancelled).toBe(true);
    let granted: boolean | undefined;
    rec.permissionHandler!(null, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    let prevented = false;
    (win.events.get('will-navigate') as (e: unknown, url: string) => void)({ preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(win.openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('registers exactly the contract channels, refuses foreign frames and bad arguments, answers as data', async () => {
    expect([...rec.ipc.keys()].sort()).toEqual(Object.keys(ipcCalls).map((c) => IPC_PREFIX + c).sort());
    expect(await call('instances.list', {}, { senderFrame: { url: 'https://evil.example/' } })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await call('instances.list', {}, { senderFrame: null })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await call('connection.connect', { instanceId: 'local; rm -rf /' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const info = await call('app.info', undefined);
    expect(info).toMatchObject({ ok: true, value: { appVersion: '0.1.0', bundledRelayVersion: '0.1.0' } });
  });

  it('starts the local relay on launch and forwards state events to the window', async () => {
    await waitFor('a connected state event', () =>
      win.sent.some(([ch, p]) => ch === `${IPC_PREFIX}instance.state` && (p as { state: { status: string } }).state.status === 'connected'),
    20_000);
    const status = await call('control.call', { instanceId: 'local', method: 'status' });
    expect(status).toMatchObject({ ok: true, value: { dataDir: path.join(rec.userData, 'relay') } });
    await call('settings.update', { keepLocalRelayRunning: false });
    expect(win.sent.some(([ch]) => ch === `${IPC_PREFIX}settings.changed`)).toBe(true);
    expect(rec.trayMenus.length).toBeGreaterThan(1);
  });

  it('shows menu, tray and dialogs in the UI language and redraws them when the setting changes', async () => {
    // "system": the stand-in's locale is en-US.
    expect(menuLabels(rec.menu)).toEqual(expect.arrayContaining(['File', 'Show Relay Desk', 'Edit', 'Copy', 'View', 'Window']));
    expect(menuLabels(rec.trayMenus.at(-1))).toEqual(['Show Relay Desk', expect.stringMatching(/^Local relay: running \(.+\)$/), 'Keep local relay running in background', 'Quit Relay Desk']);

    expect(await call('settings.update', { language: 'de' })).toMatchObject({ ok: true, value: { language: 'de' } });
    expect(win.sent).toContainEqual([`${IPC_PREFIX}settings.changed`, expect.objectContaining({ language: 'de' })]);
    const menu = menuLabels(rec.menu);
    expect(menu).toEqual(expect.arrayContaining(['Datei', 'Relay Desk anzeigen', 'Relay Desk beenden', 'Bearbeiten', 'Kopieren', 'Einfügen', 'Ansicht', 'Vergrößern', 'Fenster', 'Minimieren']));
    expect(menu.filter((l) => /^(File|Edit|View|Window|Copy|Paste|Quit.*|Show.*)$/.test(l))).toEqual([]);
    expect(menuLabels(rec.trayMenus.at(-1))).toEqual(['Relay Desk anzeigen', expect.stringMatching(/^Lokales Relay: läuft \(.+\)$/), 'Lokales Relay im Hintergrund weiterlaufen lassen', 'Relay Desk beenden']);

    (win.events.get('will-prevent-unload') as (e: unknown) => void)({ preventDefault: () => {} });
    expect(rec.messageBoxes.at(-1)).toMatchObject({ title: 'Nicht übernommene Änderungen', buttons: ['Änderungen verwerfen und schließen', 'Weiter bearbeiten'] });
    expect(await call('instances.pickKeyFile', {})).toEqual({ ok: true, value: { path: null } });
    expect(rec.openDialogs.at(-1)).toMatchObject({ title: 'Privaten Schlüssel auswählen' });

    // A change of another setting keeps the language; "system" goes back to the OS language.
    await call('settings.update', { keepLocalRelayRunning: false });
    expect(menuLabels(rec.menu)).toContain('Datei');
    await call('settings.update', { language: 'system' });
    expect(menuLabels(rec.menu)).toContain('File');
    expect(menuLabels(rec.trayMenus.at(-1))[0]).toBe('Show Relay Desk');
  });

  it('quits cleanly: before-quit waits for the services to stop the local relay', async () => {
    const status = (await call('control.call', { instanceId: 'local', method: 'status' })) as { ok: true; value: { pid: number } };
    const pid = status.value.pid;
    standIn.app.quit();
    await waitFor('the second quit after shutdown', () => rec.quitCalls >= 2, 20_000);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(rec.ipc.size).toBe(0);
  });
});
