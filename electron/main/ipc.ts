/**
 * IPC registration, and nothing else: one ipcMain.handle per contract call (sender frame checked,
 * arguments validated by the dispatcher) and the services' events forwarded to the windows.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_PREFIX, ipcCalls, ipcEvents, type EventChannel, type Result } from '../ipc-contract.ts';
import type { AppServices } from '../services/app-services.ts';
import { dispatchCall } from '../services/ipc-dispatch.ts';
import { senderRefusal } from './sender-policy.ts';

/** Register every call; returns a function that removes the handlers and event forwarding. */
export function registerIpc(services: AppServices, windows: () => BrowserWindow[]): () => void {
  const isOwnMainFrame = (event: IpcMainInvokeEvent): boolean =>
    windows().some((w) => !w.isDestroyed() && event.senderFrame !== null && w.webContents.mainFrame === event.senderFrame);

  for (const channel of Object.keys(ipcCalls)) {
    ipcMain.handle(IPC_PREFIX + channel, async (event, args: unknown): Promise<Result<unknown>> => {
      const refusal = senderRefusal({ url: event.senderFrame?.url ?? null, isOwnMainFrame: isOwnMainFrame(event) });
      if (refusal) return { ok: false, error: { code: 'FORBIDDEN_SENDER', message: refusal } };
      return dispatchCall(services.handlers, channel, args);
    });
  }

  const forwarders = (Object.keys(ipcEvents) as EventChannel[]).map((channel) => {
    const forward = (payload: unknown): void => {
      for (const w of windows()) if (!w.isDestroyed()) w.webContents.send(IPC_PREFIX + channel, payload);
    };
    (services.events as unknown as NodeJS.EventEmitter).on(channel, forward);
    return () => void (services.events as unknown as NodeJS.EventEmitter).off(channel, forward);
  });

  return () => {
    for (const channel of Object.keys(ipcCalls)) ipcMain.removeHandler(IPC_PREFIX + channel);
    for (const off of forwarders) off();
  };
}
