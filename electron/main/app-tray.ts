/** The tray icon: show the window, the local relay's state, "keep local relay running in background", quit. */
import { Menu, Tray, nativeImage } from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InstanceState, Settings } from '../ipc-contract.ts';
import { iconDir } from './app-paths.ts';
import type { MainStrings } from './main-strings.ts';

export interface TrayHooks {
  showWindow(): void;
  settings(): Settings;
  /** The strings of the current UI language. */
  strings(): MainStrings;
  setKeepRunning(keep: boolean): void;
  localState(): InstanceState;
  quit(): void;
}

export class AppTray {
  private readonly tray: Tray;

  constructor(private readonly hooks: TrayHooks) {
    const file = path.join(iconDir, process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png');
    const image = existsSync(file) ? nativeImage.createFromPath(file) : nativeImage.createEmpty();
    this.tray = new Tray(image);
    this.tray.on('click', () => hooks.showWindow());
    this.refresh();
  }

  /** Rebuild the menu (after a state or settings change, e.g. the UI language). */
  refresh(): void {
    const s = this.hooks.strings();
    const state = this.hooks.localState();
    const label = state.status === 'connected' ? s.tray.localRelayRunning(state.relayVersion ?? '?') : s.tray.localRelayState(s.status[state.status]);
    this.tray.setToolTip(s.appName);
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: s.tray.showWindow, click: () => this.hooks.showWindow() },
        { type: 'separator' },
        { label, enabled: false },
        {
          label: s.tray.keepRunning,
          type: 'checkbox',
          checked: this.hooks.settings().keepLocalRelayRunning,
          click: (item) => this.hooks.setKeepRunning(item.checked),
        },
        { type: 'separator' },
        { label: s.tray.quit, click: () => this.hooks.quit() },
      ]),
    );
  }

  destroy(): void {
    this.tray.destroy();
  }
}
