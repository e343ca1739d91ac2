/**
 * The preload (sandboxed, context-isolated): exposes `window.relayDesk` with one named function per
 * contract call and one `on*` subscription per contract event, generated from the contract tables.
 * It forwards nothing else: no generic invoke/send, no channel names from the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_PREFIX, ipcCalls, ipcEvents } from '../ipc-contract.ts';

const api: Record<string, unknown> = {};

for (const [channel, def] of Object.entries(ipcCalls)) {
  const name = IPC_PREFIX + channel;
  api[def.fn] = (args?: unknown) => ipcRenderer.invoke(name, args);
}

for (const [channel, def] of Object.entries(ipcEvents)) {
  const name = IPC_PREFIX + channel;
  api[def.fn] = (listener: unknown) => {
    if (typeof listener !== 'function') throw new TypeError(`${def.fn} needs a function`);
    const handler = (_event: IpcRendererEvent, payload: unknown): void => (listener as (p: unknown) => void)(payload);
    ipcRenderer.on(name, handler);
    return () => void ipcRenderer.off(name, handler);
  };
}

contextBridge.exposeInMainWorld('relayDesk', Object.freeze(api));
