/** Errors the spool hands to its callers as typed values, so the SMTP layer can map them to replies. */

/**
 * The spool cannot store a message right now (disk full, quota, read-only or failing file system).
 * The SMTP layer answers 452 4.3.1; `code` is the errno code that caused it (e.g. "ENOSPC").
 */
export class SpoolUnavailableError extends Error {
  override readonly name = 'SpoolUnavailableError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wrap any I/O failure on the write path; an error that is already typed passes through. */
export function toSpoolUnavailable(err: unknown, what: string): SpoolUnavailableError {
  if (err instanceof SpoolUnavailableError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : 'EIO';
  return new SpoolUnavailableError(code, `queue unavailable: ${what}: ${e?.message ?? String(err)}`, { cause: err });
}

/** Asked for a message the spool does not hold (deleted, delivered, or a mistyped id). */
export class UnknownMessageError extends Error {
  override readonly name = 'UnknownMessageError';
  readonly code = 'NOT_FOUND';
  constructor(readonly id: string) {
    super(`no queued message with id ${JSON.stringify(id)}`);
  }
}
