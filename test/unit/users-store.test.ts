import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UserStore } from '../../server/users/user-store.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

// Cheap scrypt for tests; the stored params prove what was used.
const cheap = { scrypt: { N: 1024, r: 8, p: 1 } };

let tmp: TempDir;
let file: string;
beforeEach(() => {
  tmp = makeTempDir();
  file = path.join(tmp.path, 'users.json');
});
afterEach(() => tmp.remove());

describe('user store', () => {
  it('adds users with per-user salted scrypt hashes, 0600, and never lists hashes', async () => {
    const store = await UserStore.open(file, cheap);
    expect(await store.list()).toEqual([]);
    await store.add('scanner', 'pa55word', ['scanner@example.com']);
    await store.add('alice@example.com', 'pa55word');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    const [a, b] = stored.users;
    expect(a.hash).toMatchObject({ algorithm: 'scrypt', N: 1024, r: 8, p: 1 });
    expect(a.hash.salt).not.toBe(b.hash.salt);
    expect(a.hash.hash).not.toBe(b.hash.hash); // same password, different salt
    expect(readFileSync(file, 'utf8')).not.toContain('pa55word');
    const list = await store.list();
    expect(list.map((u) => u.name)).toEqual(['alice@example.com', 'scanner']);
    expect(JSON.stringify(list)).not.toMatch(/hash|salt/);
    expect(list[1]).toMatchObject({ allowedSenders: ['scanner@example.com'] });
  });

  it('verifies passwords', async () => {
    const store = await UserStore.open(file, cheap);
    await store.add('scanner', 'right');
    expect(await store.verify('scanner', 'right')).toBe(true);
    expect(await store.verify('scanner', 'wrong')).toBe(false);
    expect(await store.verify('scanner', 'Right')).toBe(false);
    expect(await store.verify('nobody', 'right')).toBe(false);
    expect(await store.verify('nobody', '')).toBe(false);
  });

  it('changes passwords and senders, removes users, with CONFLICT / NOT_FOUND errors', async () => {
    const store = await UserStore.open(file, cheap);
    await store.add('u1', 'one');
    await expect(store.add('u1', 'two')).rejects.toMatchObject({ code: 'CONFLICT' });
    await store.setPassword('u1', 'two');
    expect(await store.verify('u1', 'one')).toBe(false);
    expect(await store.verify('u1', 'two')).toBe(true);
    expect((await store.setAllowedSenders('u1', ['a@example.com'])).allowedSenders).toEqual(['a@example.com']);
    await expect(store.setPassword('ghost', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.remove('ghost')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.remove('u1');
    expect(await store.list()).toEqual([]);
    expect(await store.verify('u1', 'two')).toBe(false);
  });

  it('validates names, passwords and sender addresses', async () => {
    const store = await UserStore.open(file, cheap);
    for (const bad of ['', 'a\u0000b', 'tab\there', 'new\nline', 'x'.repeat(256), ' padded', 'del\u007f']) {
      await expect(store.add(bad, 'pw')).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    }
    await expect(store.add('ok', '')).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await expect(store.add('ok', 'pw', ['not an address'])).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await store.add('x'.repeat(255), 'pw');
    await store.add('Jürgen Müller', 'pw');
    expect(await store.list()).toHaveLength(2);
  });

  it('sees changes another process made, and keeps concurrent changes', async () => {
    const relay = await UserStore.open(file, cheap);
    const cli = await UserStore.open(file, cheap);
    await cli.add('from-cli', 'pw');
    expect(await relay.verify('from-cli', 'pw')).toBe(true);
    await Promise.all([relay.add('a', 'pw'), relay.add('b', 'pw'), relay.setPassword('from-cli', 'new')]);
    expect((await (await UserStore.open(file, cheap)).list()).map((u) => u.name)).toEqual(['a', 'b', 'from-cli']);
    expect(await cli.verify('from-cli', 'new')).toBe(true);
  });

  it("looks at the file for get() at most once a second: another process's change shows within that", async () => {
    const relay = await UserStore.open(file, cheap);
    const cli = await UserStore.open(file, cheap);
    await cli.add('scanner', 'pw', ['scan@example.com']);
    // A login always looks at the file, so the MAIL FROM right after it sees what the login saw.
    expect(await relay.verify('scanner', 'pw')).toBe(true);
    expect((await relay.get('scanner'))?.allowedSenders).toEqual(['scan@example.com']);
    await cli.setAllowedSenders('scanner', ['copier@example.com']);
    // Within the window: the answer of the last look (this is the per-MAIL-FROM path).
    expect((await relay.get('scanner'))?.allowedSenders).toEqual(['scan@example.com']);
    vi.setSystemTime(Date.now() + 1_100);
    try {
      expect((await relay.get('scanner'))?.allowedSenders).toEqual(['copier@example.com']);
    } finally {
      vi.useRealTimers();
    }
    // Logins and listings always look.
    await cli.setPassword('scanner', 'new');
    expect(await relay.verify('scanner', 'new')).toBe(true);
  });

  it('refuses a malformed file with its name', async () => {
    writeFileSync(file, '{"version":1,"users":[{"name":"x"}]}');
    await expect(UserStore.open(file)).rejects.toThrow(/users\.json: not a valid user store/);
  });

  it('uses a real scrypt cost by default', async () => {
    const store = await UserStore.open(file);
    await store.add('u', 'pw');
    expect(JSON.parse(readFileSync(file, 'utf8')).users[0].hash).toMatchObject({ N: 16384, r: 8, p: 1 });
    expect(await store.verify('u', 'pw')).toBe(true);
  });
});

describe('verified-login cache', () => {
  it('remembers a good login without a second scrypt, and forgets it when the password changes', async () => {
    const store = await UserStore.open(file, cheap);
    await store.add('printer', 'first-password');
    expect(await store.verify('printer', 'first-password')).toBe(true);
    const hashes = store.verifyHashes;
    expect(await store.verify('printer', 'first-password')).toBe(true);
    expect(store.verifyHashes).toBe(hashes);
    expect(await store.verify('printer', 'wrong-password')).toBe(false);
    expect(store.verifyHashes).toBe(hashes + 1);
    await store.setPassword('printer', 'second-password');
    expect(await store.verify('printer', 'first-password')).toBe(false);
    expect(await store.verify('printer', 'second-password')).toBe(true);
  });
});
