/** The tray icon: show the window, the local relay's state, "keep local relay running in background", quit. */
import { Menu, Tray, nativeImage } from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InstanceState, Settings } from '../ipc-contract.ts';
import { iconDir } from './app-paths.ts';

export interface TrayHooks {
  showWindow(): void;
  settings(): Settings;
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
    this.tray.setToolTip('Relay Desk');
    this.tray.on('click', () => hooks.showWindow());
    this.refresh();
  }

  /** Rebuild the menu (after a state or settings change). */
  refresh(): void {
    const state = this.hooks.localState();
    const label = state.status === 'connected' ? `Local relay: running (${state.relayVersion ?? '?'})` : `Local relay: ${state.status.replace(/-/g, ' ')}`;
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show Relay Desk', click: () => this.hooks.showWindow() },
        { type: 'separator' },
        { label, enabled: false },
        {
          label: 'Keep local relay running in background',
          type: 'checkbox',
          checked: this.hooks.settings().keepLocalRelayRunning,
          click: (item) => this.hooks.setKeepRunning(item.checked),
        },
        { type: 'separator' },
        { label: 'Quit Relay Desk', click: () => this.hooks.quit() },
      ]),
    );
  }

  destroy(): void {
    this.tray.destroy();
  }
}
