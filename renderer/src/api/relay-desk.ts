/**
 * Typed access to `window.relayDesk` (the preload's bridge; in the e2e harness a WebSocket stand-in
 * with the same shape). The renderer talks to the world only through this object; everything else in
 * the renderer receives it as a parameter, so tests hand in a fake.
 */
import type { ControlCallRequest, IpcError, RelayDeskApi, Result, RoutedMethodName } from '../../../electron/ipc-contract.ts';
import type { MethodParams, MethodResult } from '../../../server/protocol/index.ts';

declare global {
  interface Window {
    /** The app's bridge to the main process (see electron/ipc-contract.ts). */
    relayDesk?: RelayDeskApi;
  }
}

export type {
  RelayDeskApi,
  Result,
  IpcError,
  IpcErrorCode,
  InstanceView,
  LocalInstanceView,
  RemoteInstanceView,
  InstanceState,
  InstanceStatus,
  Say,
  HostKeyInfo,
  TrustedHostKey,
  InstallProgress,
  InstallStep,
  InstallReport,
  AuthPrompt,
  RoutedMethodName,
  SshAuth,
  AppInfo,
  Settings,
} from '../../../electron/ipc-contract.ts';

/** The bridge, or an error naming what is missing (the page was opened outside the app). */
export function relayDeskFromWindow(win: Window = window): RelayDeskApi {
  if (!win.relayDesk) throw new Error('window.relayDesk is missing: the renderer must run inside Relay Desk (or the e2e harness)');
  return win.relayDesk;
}

/** A failed call as an exception, for code that prefers `try` over checking `ok`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly error: IpcError) {
    super(error.message);
  }
  get code(): IpcError['code'] {
    return this.error.code;
  }
}

/** The value of a result, or throw ApiError. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.error);
}

/** Call a control method on one instance; params and result are typed from server/protocol's method table. */
export function controlCall<M extends RoutedMethodName>(
  api: RelayDeskApi,
  instanceId: string,
  method: M,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every param is optional", as in ipc-contract.ts
  ...params: {} extends MethodParams<M> ? [params?: MethodParams<M>] : [params: MethodParams<M>]
): Promise<Result<MethodResult<M>>> {
  const request = (params[0] === undefined ? { instanceId, method } : { instanceId, method, params: params[0] }) as ControlCallRequest<M>;
  return api.controlCall<M>(request);
}
