/** Waiting on events, never on sleeps: poll a condition that the test can observe, with a deadline. */

/**
 * Re-check `probe` whenever the event loop is free (and at least every `intervalMs`) until it returns
 * a truthy value; throw with `what` after `timeoutMs`. Used where no event exists to await, e.g. a
 * file appearing or a counter reaching a value in another process.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
