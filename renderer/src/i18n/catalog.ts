/**
 * Collects the per-area message files into one flat catalog per locale. Every file
 * `messages/<area>.<locale>.ts` default-exports a message tree; its keys are prefixed with the area,
 * so `messages/mail.en.ts` → `mail.general.title`. Adding an area needs no edit here.
 */
import { LOCALES, type Locale, type Message, type MessageTree, type PluralMessage } from './message-types.ts';

/** Every key of one locale, flattened (`area.a.b`). */
export type FlatMessages = ReadonlyMap<string, Message>;
/** The flattened messages of every locale, plus the area each key came from. */
export interface Catalog {
  readonly messages: Readonly<Record<Locale, FlatMessages>>;
  /** Areas found per locale (file stems), for the completeness test. */
  readonly areas: Readonly<Record<Locale, readonly string[]>>;
}

const PLURAL_KEYS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/** A node with only plural-category keys (and `other`) is one plural message, not a subtree. */
export function isPluralMessage(node: Message | MessageTree): node is PluralMessage {
  if (typeof node === 'string') return false;
  const keys = Object.keys(node);
  return keys.includes('other') && keys.every((k) => PLURAL_KEYS.has(k) && typeof (node as Record<string, unknown>)[k] === 'string');
}

/** Flatten a message tree into `prefix.key` entries. */
export function flattenMessages(tree: MessageTree, prefix: string, into = new Map<string, Message>()): Map<string, Message> {
  for (const [key, node] of Object.entries(tree)) {
    const path = `${prefix}.${key}`;
    if (typeof node === 'string' || isPluralMessage(node)) into.set(path, node);
    else flattenMessages(node, path, into);
  }
  return into;
}

const FILE_RE = /\/([a-z][a-zA-Z0-9-]*)\.([a-z]{2})\.ts$/;

/** Build a catalog from modules keyed by path (as `import.meta.glob` returns them). */
export function buildCatalog(modules: Readonly<Record<string, { default: MessageTree }>>): Catalog {
  const messages = {} as Record<Locale, Map<string, Message>>;
  const areas = {} as Record<Locale, string[]>;
  for (const locale of LOCALES) {
    messages[locale] = new Map();
    areas[locale] = [];
  }
  for (const [path, mod] of Object.entries(modules)) {
    const m = FILE_RE.exec(path);
    if (!m) throw new Error(`message file ${path} must be named <area>.<locale>.ts`);
    const [, area, locale] = m as unknown as [string, string, string];
    if (!(LOCALES as readonly string[]).includes(locale)) throw new Error(`message file ${path}: unknown locale "${locale}"`);
    flattenMessages(mod.default, area, messages[locale as Locale]);
    areas[locale as Locale].push(area);
  }
  for (const locale of LOCALES) areas[locale].sort();
  return { messages, areas };
}

/** The app's catalog: every message file under ./messages. */
export const catalog: Catalog = buildCatalog(import.meta.glob<{ default: MessageTree }>('./messages/*.ts', { eager: true }));
