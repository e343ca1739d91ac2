/** The shape of the per-area message files (`messages/<area>.<locale>.ts`). */

/** Plural forms chosen with Intl.PluralRules on the `count` parameter; `other` is required. */
export interface PluralMessage {
  readonly zero?: string;
  readonly one?: string;
  readonly two?: string;
  readonly few?: string;
  readonly many?: string;
  readonly other: string;
}

/** One message: a string with `{name}` placeholders, or plural forms. */
export type Message = string | PluralMessage;

/** A tree of messages; nested keys join with dots (`general.auth.enabled`). */
export interface MessageTree {
  readonly [key: string]: Message | MessageTree;
}

/**
 * What a translation of `T` must look like: the same keys, nested the same way, each a message.
 * `satisfies Translation<typeof en>` in a `.de.ts` file makes a missing or extra key a type error.
 */
export type Translation<T> = {
  readonly [K in keyof T]: T[K] extends string ? Message : T[K] extends PluralMessage ? PluralMessage : Translation<T[K]>;
};

/** The locales the app ships. */
export const LOCALES = ['en', 'de'] as const;
/** A locale the app ships. */
export type Locale = (typeof LOCALES)[number];

/** Parameters of a message: numbers are formatted for the locale. */
export type MessageParams = Readonly<Record<string, string | number>>;
