/**
 * The main window (SPEC §2.3): context isolation, sandbox, no Node in the renderer, our own page from
 * app:// only, no navigation, no new windows, no permissions, nothing remote.
 */
import { BrowserWindow, dialog, net, protocol, session, shell } from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { iconDir, preloadPath, rendererRoot } from './app-paths.ts';
import type { MainStrings } from './main-strings.ts';
import { APP_INDEX_URL, APP_ORIGIN, APP_SCHEME, CONTENT_SECURITY_POLICY, resolveAppFile } from './sender-policy.ts';

/** Must run before `app.ready`: app:// behaves like https (secure context, fetch, CSP). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
}

const MISSING_RENDERER = `<!doctype html><meta charset="utf-8"><title>Relay Desk</title>
<body style="font-family:sans-serif;padding:2em"><h1>Relay Desk</h1>
<p>The user interface has not been built: run <code>npm run build:renderer</code> (or <code>npm start</code>).</p></body>`;

/** Serve renderer/dist over app:// with the CSP on every response; lock the session down. */
export function setUpSession(): void {
  const ses = session.defaultSession;
  ses.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = resolveAppFile(rendererRoot, url.pathname, path.sep);
    const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
    if (!file) return new Response('bad path', { status: 400, headers });
    if (!existsSync(file)) {
      if (url.pathname === '/' || url.pathname === '/index.html') return new Response(MISSING_RENDERER, { headers: { ...headers, 'Content-Type': 'text/html' } });
      return new Response('not found', { status: 404, headers });
    }
    const res = await net.fetch(pathToFileURL(file).toString());
    const out = new Headers(res.headers);
    for (const [k, v] of Object.entries(headers)) out.set(k, v);
    return new Response(res.body, { status: res.status, headers: out });
  });
  // Nothing remote, ever: the renderer talks to relays through IPC only.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*'] }, (_details, callback) => callback({ cancel: true }));
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

/** `strings` is read when a string is shown, so the window follows language switches. */
export function createMainWindow(strings: () => MainStrings): BrowserWindow {
  const icon = path.join(iconDir, 'icon.png');
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: strings().windowTitle,
    ...(existsSync(icon) ? { icon } : {}),
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  const contents = win.webContents;
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // The settings pages refuse to unload while changes are not applied (beforeunload); Electron only
  // tells us so. Ask the person, and let the window close only when they choose to discard.
  contents.on('will-prevent-unload', (event) => {
    const s = strings().unappliedDialog;
    const choice = dialog.showMessageBoxSync(win, {
      type: 'question',
      buttons: [s.discard, s.keepEditing],
      defaultId: 1,
      cancelId: 1,
      title: s.title,
      message: s.message,
      detail: s.detail,
    });
    if (choice === 0) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    // Documentation links open in the browser; the app itself never opens windows for content.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(APP_INDEX_URL);
  return win;
}
