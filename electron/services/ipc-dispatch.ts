/**
 * The receiving end of the IPC contract, without Electron: validate a call's arguments against the
 * contract, run its handler, and answer with a Result — never a thrown error. Electron's main process
 * calls `dispatchCall` from ipcMain.handle (after checking the sender frame); the e2e harness calls it
 * from a WebSocket; `createInProcessApi` builds a `RelayDeskApi` straight on top of it.
 */
import {
  apiFunctionNames,
  ipcEvents,
  parseCallArgs,
  type CallChannel,
  type EventChannel,
  type EventPayload,
  type RelayDeskApi,
  type Result,
} from '../ipc-contract.ts';
import { toIpcError } from './app-error.ts';
import type { AppServices, CallHandlers } from './app-services.ts';

/** Validate `rawArgs` for `channel` and run the handler; unknown channels and bad arguments come back as INVALID_ARGUMENT. */
export async function dispatchCall(handlers: CallHandlers, channel: string, rawArgs: unknown): Promise<Result<unknown>> {
  const parsed = parseCallArgs(channel, rawArgs);
  if (!parsed.ok) return parsed;
  try {
    const handler = handlers[parsed.value.channel] as (args: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.value.args) };
  } catch (err) {
    return { ok: false, error: toIpcError(err) };
  }
}

/** A `RelayDeskApi` in this process (tests, benchmarks, the e2e bridge's server side). */
export function createInProcessApi(services: Pick<AppServices, 'handlers' | 'events'>): RelayDeskApi {
  const api: Record<string, unknown> = {};
  for (const [fn, channel] of Object.entries(apiFunctionNames.calls)) {
    api[fn] = (args?: unknown) => dispatchCall(services.handlers, channel, args);
  }
  for (const [fn, channel] of Object.entries(apiFunctionNames.events)) {
    api[fn] = (listener: (payload: unknown) => void) => subscribe(services, channel, listener);
  }
  return api as unknown as RelayDeskApi;
}

/** Subscribe to one event channel; returns the unsubscribe function. */
export function subscribe<E extends EventChannel>(services: Pick<AppServices, 'events'>, channel: E, listener: (payload: EventPayload<E>) => void): () => void {
  const l = listener as (payload: unknown) => void;
  (services.events as unknown as NodeJS.EventEmitter).on(channel, l);
  return () => void (services.events as unknown as NodeJS.EventEmitter).off(channel, l);
}

/** Every event channel (for bridges that forward all of them). */
export const eventChannels = Object.keys(ipcEvents) as EventChannel[];
/** Every call channel. */
export type { CallChannel };
