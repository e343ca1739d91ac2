/**
 * The frames of the e2e bridge: the WebSocket that stands in for Electron's IPC between the page's
 * `window.relayDesk` and the app's services. One JSON object per text frame. Imported by the Node
 * side and by the browser script (types only there).
 */
import type { CallChannel, EventChannel, Result } from '../../../electron/ipc-contract.ts';

/** Page → harness: call a channel of the IPC contract with the renderer's raw arguments. */
export interface CallFrame {
  t: 'call';
  id: number;
  channel: string;
  args: unknown;
}

/** Harness → page: the answer of one call. */
export interface ResultFrame {
  t: 'result';
  id: number;
  result: Result<unknown>;
}

/** Harness → page: an event of the IPC contract. */
export interface EventFrame {
  t: 'event';
  channel: EventChannel;
  payload: unknown;
}

export type ServerFrame = ResultFrame | EventFrame;

/** What the browser script needs to build `window.relayDesk`: the bridge URL and the function names. */
export interface BridgeConfig {
  url: string;
  /** Function name on `window.relayDesk` → call channel. */
  calls: Record<string, CallChannel>;
  /** Function name (`on…`) → event channel. */
  events: Record<string, EventChannel>;
}
