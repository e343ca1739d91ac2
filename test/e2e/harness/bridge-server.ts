/**
 * The harness's web server: serves the built renderer (renderer/dist) like the app's file:// load
 * would, plus `/bridge`, a WebSocket on which the page's `window.relayDesk` (bridge-browser.ts)
 * calls the app's services. Only Electron's IPC transport is swapped: calls go through the same
 * `dispatchCall` main uses (arguments parsed with the IPC contract), and events fan out to every page.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppServices } from '../../../electron/services/app-services.ts';
import { dispatchCall, eventChannels, subscribe } from '../../../electron/services/ipc-dispatch.ts';
import type { CallFrame, ServerFrame } from './bridge-protocol.ts';

/** The part of the app's services the bridge talks to — the same object Electron's main wires to IPC. */
export type BridgedServices = Pick<AppServices, 'handlers' | 'events'>;

export interface BridgeServer {
  /** e.g. http://127.0.0.1:41234 — the app is at `${origin}/index.html`. */
  readonly origin: string;
  readonly bridgeUrl: string;
  /** Calls seen, by channel (for assertions and the benchmark). */
  readonly callCounts: Map<string, number>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Serve `rootDir` and the bridge on 127.0.0.1 and a free port. */
export async function startBridgeServer(rootDir: string, services: BridgedServices): Promise<BridgeServer> {
  const index = path.join(rootDir, 'index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: run "npm run build:renderer" first`);
  const root = path.resolve(rootDir);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://harness');
    let file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
    if (!file.startsWith(root + path.sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = index; // the app routes in the page
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });

  const callCounts = new Map<string, number>();
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ server, path: '/bridge', maxPayload: 64 * 1024 * 1024 });
  const unsubscribers = eventChannels.map((channel) =>
    subscribe(services, channel, (payload: unknown) => {
      const text = JSON.stringify({ t: 'event', channel, payload } satisfies ServerFrame);
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    }),
  );

  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: CallFrame;
      try {
        frame = JSON.parse(data.toString()) as CallFrame;
      } catch {
        return;
      }
      if (frame?.t !== 'call' || typeof frame.id !== 'number') return;
      callCounts.set(frame.channel, (callCounts.get(frame.channel) ?? 0) + 1);
      void dispatchCall(services.handlers, String(frame.channel), frame.args).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ t: 'result', id: frame.id, result } satisfies ServerFrame));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    bridgeUrl: `ws://127.0.0.1:${port}/bridge`,
    callCounts,
    async close() {
      for (const off of unsubscribers) off();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
