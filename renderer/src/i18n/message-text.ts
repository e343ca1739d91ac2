/**
 * Messages the main process sends as English plus a catalog key (`say`: an IpcError, an instance's
 * state line): shown in the user's language when this renderer knows every key involved, else in the
 * English as sent — the renderer of an older or newer app may not have the key.
 */
import type { Say } from '../api/relay-desk.ts';
import type { I18n } from './i18n.svelte.ts';

/** Something with a message for people and, from current main processes, its key. */
export interface SaidMessage {
  readonly message: string;
  readonly say?: Say | undefined;
}

/** The message in `i18n`'s language, or its English when a key is unknown here. Components use `messageText` from ./index.ts. */
export function wordMessage(said: SaidMessage, i18n: Pick<I18n, 'has' | 't'>): string {
  return (said.say && worded(said.say, i18n)) ?? said.message;
}

/** The say in words, causes (nested says) first; null when any key is missing. */
function worded(say: Say, i18n: Pick<I18n, 'has' | 't'>): string | null {
  if (!i18n.has(say.key)) return null;
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(say.params ?? {})) {
    if (typeof value !== 'object') params[name] = value;
    else {
      const cause = worded(value, i18n);
      if (cause === null) return null;
      params[name] = cause;
    }
  }
  return i18n.t(say.key, params);
}
