/**
 * The services' texts and the renderer's `errors` catalogs agree: every key a service can send exists
 * in English and German with the same placeholders, the English is the services' text word for word,
 * and `said` fills the English and carries causes as nested keys.
 */
import { describe, expect, it } from 'vitest';
import { APP_ERROR_TEXT, foreign, said } from '../../electron/services/app-error-text.ts';
import { AppError, toIpcError } from '../../electron/services/app-error.ts';
import { writeFailure } from '../../electron/services/remote-shell.ts';
import de from '../../renderer/src/i18n/messages/errors.de.ts';
import en from '../../renderer/src/i18n/messages/errors.en.ts';

/** A message file as `errors.a.b → text` (the catalog's own flattening, without Vite's glob). */
function flatten(tree: object, prefix = 'errors', into = new Map<string, string>()): Map<string, string> {
  for (const [key, node] of Object.entries(tree)) {
    if (typeof node === 'string') into.set(`${prefix}.${key}`, node);
    else flatten(node as object, `${prefix}.${key}`, into);
  }
  return into;
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''))].sort();
}

const catalogs = { en: flatten(en), de: flatten(de) };
const registry = new Map(Object.entries(APP_ERROR_TEXT).map(([key, text]) => [`errors.${key}`, text as string]));

describe('APP_ERROR_TEXT and the errors catalogs', () => {
  it.each(Object.keys(catalogs) as (keyof typeof catalogs)[])('%s has every key with the same placeholders, and no other keys', (locale) => {
    const catalog = catalogs[locale];
    expect([...registry.keys()].filter((k) => !catalog.has(k)), 'missing').toEqual([]);
    expect([...catalog.keys()].filter((k) => !registry.has(k)), 'not sent by any service').toEqual([]);
    for (const [key, text] of registry) expect(placeholders(catalog.get(key) ?? ''), key).toEqual(placeholders(text));
  });

  it('has the services’ English word for word, and German that is translated', () => {
    for (const [key, text] of registry) {
      expect(catalogs.en.get(key), key).toBe(text);
      expect(catalogs.de.get(key), key).not.toBe(text);
    }
  });

  it('names no group like a plural form (the catalog would read the group as one plural message)', () => {
    const plural = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
    expect(Object.keys(APP_ERROR_TEXT).filter((k) => k.split('.').some((part) => plural.has(part)))).toEqual([]);
  });
});

describe('said', () => {
  it('fills the English and sends the key with its params', () => {
    expect(said('ssh.refused', { address: 'nas.lan:22' })).toEqual({
      message: 'nothing listens on nas.lan:22 (connection refused)',
      say: { key: 'errors.ssh.refused', params: { address: 'nas.lan:22' } },
    });
    expect(said('install.busy')).toEqual({ message: 'an install or upgrade of this instance is running', say: { key: 'errors.install.busy' } });
  });

  it('carries a cause as a nested key, and foreign words as they are', () => {
    const lost = said('ssh.lostBecause', { reason: said('ssh.timedOut', { address: 'nas.lan:22' }) });
    expect(lost.message).toBe('the SSH connection was lost (no answer from nas.lan:22 (connection timed out)); reconnecting');
    expect(lost.say).toEqual({ key: 'errors.ssh.lostBecause', params: { reason: { key: 'errors.ssh.timedOut', params: { address: 'nas.lan:22' } } } });
    const died = said('install.diedAfterStart', { reason: foreign('bad config: listeners[0].port') });
    expect(died.say?.params).toEqual({ reason: 'bad config: listeners[0].port' });
  });

  it('travels through toIpcError next to the English message', () => {
    const err = new AppError('HOST_UNSUITABLE', said('install.nodeTooOld', { version: 'v16.20.2', host: 'nas.lan', minNode: 18 }));
    expect(toIpcError(err)).toEqual({
      code: 'HOST_UNSUITABLE',
      message: 'Node.js v16.20.2 on nas.lan is too old: the relay needs 18 or newer',
      say: { key: 'errors.install.nodeTooOld', params: { version: 'v16.20.2', host: 'nas.lan', minNode: 18 } },
    });
  });
});

describe('writeFailure', () => {
  const who = { user: 'admin', host: 'nas.lan' };
  const otherwise = (detail: string) => said('install.cannotCreate', { path: '/opt/relaydesk', detail });

  it('says "no write access" when the host says permission denied (sh or SFTP)', () => {
    const detail = "mkdir: cannot create directory '/opt/relaydesk': Permission denied";
    expect(writeFailure(who, '/opt/relaydesk', detail, otherwise(detail))).toEqual(said('remote.noWriteAccess', { ...who, path: '/opt/relaydesk', detail }));
    expect(writeFailure(who, '/volume1/x', 'Read-only file system', otherwise('x')).say?.key).toBe('errors.remote.noWriteAccess');
  });

  it('keeps the other reasons', () => {
    const detail = 'No space left on device';
    expect(writeFailure(who, '/opt/relaydesk', detail, otherwise(detail))).toEqual(otherwise(detail));
  });
});
