/**
 * The Electron main process: lifecycle, one window, menu, tray and IPC registration. All work happens
 * in electron/services (plain Node); this file only wires Electron's pieces to them.
 */
import { app, BrowserWindow, dialog, Menu } from 'electron';
import os from 'node:os';
import path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { LOCAL_INSTANCE_ID, type InstanceState, type UiLanguage } from '../ipc-contract.ts';
import { createAppServices, type AppServices } from '../services/app-services.ts';
import { EncryptedSecretBox } from '../services/secret-box.ts';
import { buildAppMenu } from './app-menu.ts';
import { relayBundlePath } from './app-paths.ts';
import { AppTray } from './app-tray.ts';
import { createMainWindow, registerAppScheme, setUpSession } from './app-window.ts';
import { createElectronStore, keychainEncryptor } from './electron-adapters.ts';
import { registerIpc } from './ipc.ts';
import { MAIN_STRINGS, resolveUiLanguage, type MainStrings } from './main-strings.ts';

app.setName('Relay Desk');
// Set before anything reads it, so development runs (`electron out/main/main.mjs`) use the same folder.
app.setPath('userData', path.join(app.getPath('appData'), 'Relay Desk'));

if (!app.requestSingleInstanceLock()) {
  app.exit(0);
} else {
  registerAppScheme();
  run();
}

function run(): void {
  let win: BrowserWindow | null = null;
  let services: AppServices | null = null;
  let tray: AppTray | null = null;
  let unregisterIpc: (() => void) | null = null;
  let quitting: 'no' | 'shutting-down' | 'done' = 'no';
  let localState: InstanceState = { status: 'relay-stopped', message: '', since: Date.now(), retryAt: null, relayVersion: null, hostKey: null };
  // Main's strings follow the `language` setting (set by the renderer's language switch).
  let strings: MainStrings = MAIN_STRINGS.en;
  const currentStrings = (): MainStrings => strings;
  // The app's locale first: it is what Chromium, and so the renderer's navigator.languages, follows.
  const systemLanguages = (): string[] => [app.getLocale(), ...app.getPreferredSystemLanguages()];

  const showWindow = (): void => {
    if (!win || win.isDestroyed()) win = createMainWindow(currentStrings);
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };

  app.on('second-instance', () => showWindow());

  app.whenReady().then(async () => {
    strings = MAIN_STRINGS[resolveUiLanguage('system', systemLanguages())];
    setUpSession();
    const store = createElectronStore();
    services = createAppServices({
      store,
      secrets: new EncryptedSecretBox(store, keychainEncryptor()),
      relayBundlePath: relayBundlePath(),
      localDataDir: path.join(app.getPath('userData'), 'relay'),
      // The relay runs on Electron's own Node: no Node.js install needed on the desktop.
      nodeRuntime: { execPath: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } },
      appVersion: app.getVersion(),
      bundledRelayVersion: pkg.version,
      pickKeyFile: async () => {
        const options = { title: strings.keyFilePickerTitle, defaultPath: path.join(os.homedir(), '.ssh'), properties: ['openFile', 'showHiddenFiles'] as ('openFile' | 'showHiddenFiles')[] };
        const r = win && !win.isDestroyed() ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      log: (m) => console.warn(`relay-desk: ${m}`),
    });
    const s = services;
    unregisterIpc = registerIpc(s, () => BrowserWindow.getAllWindows());
    let menuLanguage: UiLanguage | null = null;
    /** Take the UI language from the settings; build the menu again when it changed. */
    const applyLanguage = (): void => {
      const language = resolveUiLanguage(s.settings().language, systemLanguages());
      strings = MAIN_STRINGS[language];
      if (language === menuLanguage) return;
      menuLanguage = language;
      Menu.setApplicationMenu(buildAppMenu({ isPackaged: app.isPackaged, strings, onShowWindow: showWindow }));
    };
    applyLanguage();
    try {
      tray = new AppTray({
        showWindow,
        settings: () => s.settings(),
        strings: currentStrings,
        setKeepRunning: (keep) => void s.handlers['settings.update']({ keepLocalRelayRunning: keep }),
        localState: () => localState,
        quit: () => app.quit(),
      });
    } catch (err) {
      console.warn(`relay-desk: no tray (${(err as Error).message})`);
    }
    s.events.on('instance.state', ({ instanceId, state }) => {
      if (instanceId !== LOCAL_INSTANCE_ID) return;
      localState = state;
      tray?.refresh();
    });
    s.events.on('settings.changed', () => {
      applyLanguage();
      tray?.refresh();
    });
    await s.start();
    showWindow();
  }).catch((err: unknown) => {
    // Also catches failures inside the start-up above (not only of whenReady itself).
    dialog.showErrorBox(strings.startFailed, String((err as Error)?.message ?? err));
    app.exit(1);
  });

  app.on('activate', () => showWindow());

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Clean quit: disconnect every instance and stop (or, if chosen, release) the local relay first.
  app.on('before-quit', (event) => {
    if (quitting === 'done' || !services) return;
    event.preventDefault();
    if (quitting === 'shutting-down') return;
    quitting = 'shutting-down';
    const s = services;
    const deadline = new Promise((r) => setTimeout(r, 20_000));
    void Promise.race([s.shutdown().catch((err: unknown) => console.warn(`relay-desk: shutdown: ${String(err)}`)), deadline]).then(() => {
      quitting = 'done';
      unregisterIpc?.();
      tray?.destroy();
      app.quit();
    });
  });
}
