/**
 * Runs in the page before the app (Playwright `addInitScript`): defines `window.relayDesk` — the
 * same shape the preload exposes in the app, built from the same contract tables — and carries every
 * call and event over a WebSocket to the harness. Calls made before the socket is open wait for it;
 * a call never rejects (a lost bridge answers `{ok:false}` like a failed IPC call would).
 * Compiled by esbuild to one IIFE; it sees no DOM typings (the project's tsconfig has none), so the
 * few browser globals it uses are declared here.
 */
import type { BridgeConfig, CallFrame, ServerFrame } from './bridge-protocol.ts';

interface BrowserSocket {
  readyState: number;
  send(data: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}
interface BrowserGlobals {
  WebSocket: new (url: string) => BrowserSocket;
  __relayDeskBridgeConfig?: BridgeConfig;
  relayDesk?: unknown;
  /** For tests: how many frames went each way, and whether the socket is open. */
  __relayDeskBridge?: { sent: number; received: number; open: () => boolean };
}

type Pending = (result: { ok: boolean; value?: unknown; error?: { code: string; message: string } }) => void;

(() => {
  const g = globalThis as unknown as BrowserGlobals;
  const config = g.__relayDeskBridgeConfig;
  if (!config || g.relayDesk) return;

  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const queued: string[] = [];
  const stats = { sent: 0, received: 0 };
  let nextId = 1;
  const socket = new g.WebSocket(config.url);

  socket.addEventListener('open', () => {
    for (const frame of queued.splice(0)) socket.send(frame);
  });
  socket.addEventListener('close', () => {
    for (const [id, resolve] of pending) {
      pending.delete(id);
      resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'the e2e bridge closed' } });
    }
  });
  socket.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    stats.received++;
    const frame = JSON.parse(ev.data) as ServerFrame;
    if (frame.t === 'result') {
      const resolve = pending.get(frame.id);
      pending.delete(frame.id);
      resolve?.(frame.result);
    } else {
      for (const l of listeners.get(frame.channel) ?? []) {
        try {
          l(frame.payload);
        } catch (err) {
          console.error('relayDesk event listener failed', err);
        }
      }
    }
  });

  const send = (frame: CallFrame): void => {
    const text = JSON.stringify(frame);
    stats.sent++;
    if (socket.readyState === 1) socket.send(text);
    else queued.push(text);
  };

  const api: Record<string, unknown> = {};
  for (const [fn, channel] of Object.entries(config.calls)) {
    api[fn] = (args?: unknown) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        send({ t: 'call', id, channel, args: args === undefined ? {} : args });
      });
  }
  for (const [fn, channel] of Object.entries(config.events)) {
    api[fn] = (listener: (payload: unknown) => void) => {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    };
  }
  // contextBridge hands the renderer a frozen object; so do we.
  g.relayDesk = Object.freeze(api);
  g.__relayDeskBridge = {
    get sent() {
      return stats.sent;
    },
    get received() {
      return stats.received;
    },
    open: () => socket.readyState === 1,
  };
})();
