/**
 * The application menu: standard roles, plus developer tools outside packaged builds. Every item has
 * a label from `strings`, because Electron's default role labels are English only.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MainStrings } from './main-strings.ts';

export function buildAppMenu(opts: { isPackaged: boolean; strings: MainStrings; onShowWindow(): void }): Menu {
  const isMac = process.platform === 'darwin';
  const m = opts.strings.menu;
  const sep: MenuItemConstructorOptions = { type: 'separator' };
  const template: MenuItemConstructorOptions[] = [
    ...(isMac
      ? [
          {
            role: 'appMenu' as const,
            label: opts.strings.appName,
            submenu: [
              { role: 'about', label: m.about },
              sep,
              { role: 'services', label: m.services },
              sep,
              { role: 'hide', label: m.hide },
              { role: 'hideOthers', label: m.hideOthers },
              { role: 'unhide', label: m.showAll },
              sep,
              { role: 'quit', label: m.quit },
            ] as MenuItemConstructorOptions[],
          },
        ]
      : []),
    {
      label: m.file,
      submenu: [{ label: m.showWindow, accelerator: 'CmdOrCtrl+1', click: () => opts.onShowWindow() }, sep, isMac ? { role: 'close', label: m.closeWindow } : { role: 'quit', label: m.quit }],
    },
    {
      role: 'editMenu',
      label: m.edit,
      submenu: [
        { role: 'undo', label: m.undo },
        { role: 'redo', label: m.redo },
        sep,
        { role: 'cut', label: m.cut },
        { role: 'copy', label: m.copy },
        { role: 'paste', label: m.paste },
        ...(isMac ? ([{ role: 'pasteAndMatchStyle', label: m.pasteAndMatchStyle }] as MenuItemConstructorOptions[]) : []),
        { role: 'delete', label: m.delete },
        sep,
        { role: 'selectAll', label: m.selectAll },
      ],
    },
    {
      label: m.view,
      submenu: [
        ...(opts.isPackaged ? [] : ([{ role: 'reload', label: m.reload }, { role: 'toggleDevTools', label: m.toggleDevTools }, sep] as MenuItemConstructorOptions[])),
        { role: 'resetZoom', label: m.resetZoom },
        { role: 'zoomIn', label: m.zoomIn },
        { role: 'zoomOut', label: m.zoomOut },
        sep,
        { role: 'togglefullscreen', label: m.toggleFullScreen },
      ],
    },
    {
      role: 'windowMenu',
      label: m.window,
      submenu: [
        { role: 'minimize', label: m.minimize },
        ...((isMac ? [{ role: 'zoom', label: m.zoom }, sep, { role: 'front', label: m.bringAllToFront }] : [{ role: 'close', label: m.closeWindow }]) as MenuItemConstructorOptions[]),
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
