/** Errors of the app's services as data (DESIGN §2): a code from the IPC contract's closed set and a message. */
import { ControlError, type Issue } from '../../server/protocol/index.ts';
import type { IpcError, IpcErrorCode, Say } from '../ipc-contract.ts';
import type { Said } from './app-error-text.ts';

/**
 * An error a service throws on purpose; the dispatcher turns it into `{ok:false, error}`. Its text is
 * a `Said` (see app-error-text.ts), so the renderer can show it in the user's language.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly say: Say | undefined;
  constructor(
    readonly code: IpcErrorCode,
    text: Said,
    readonly issues?: Issue[],
  ) {
    super(text.message);
    this.say = text.say;
  }

  /** The error's text, to put inside another message (as a cause) or into an instance state. */
  get said(): Said {
    return this.say ? { message: this.message, say: this.say } : { message: this.message };
  }
}

/** Any thrown value as an IPC error: AppError and ControlError keep their code, anything else is INTERNAL. */
export function toIpcError(err: unknown): IpcError {
  if (err instanceof AppError) {
    return { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}), ...(err.say ? { say: err.say } : {}) };
  }
  if (err instanceof ControlError) {
    return err.issues ? { code: err.code, message: err.message, issues: err.issues } : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: message || 'unexpected error' };
}

/** Exhaustive switches: a case that is missing fails to compile. */
export function missingCase(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
