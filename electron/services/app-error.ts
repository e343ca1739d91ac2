/** Errors of the app's services as data (DESIGN §2): a code from the IPC contract's closed set and a message. */
import { ControlError, type Issue } from '../../server/protocol/index.ts';
import type { IpcError, IpcErrorCode } from '../ipc-contract.ts';

/** An error a service throws on purpose; the dispatcher turns it into `{ok:false, error}`. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: IpcErrorCode,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
  }
}

/** Any thrown value as an IPC error: AppError and ControlError keep their code, anything else is INTERNAL. */
export function toIpcError(err: unknown): IpcError {
  if (err instanceof AppError || err instanceof ControlError) {
    return err.issues ? { code: err.code, message: err.message, issues: err.issues } : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: message || 'unexpected error' };
}

/** Exhaustive switches: a case that is missing fails to compile. */
export function missingCase(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
