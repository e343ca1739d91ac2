/**
 * The SMTP AUTH user store (SPEC §1.3), `DIR/users.json` (mode 0600): per user a scrypt hash with
 * its own salt and the cost parameters it was made with, and the sender addresses the user may use.
 * The file is rewritten atomically and re-read when another process (`mailrelay user …`) changed it.
 */
import { promises as fs } from 'node:fs';
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomic } from '../queue/atomic-file.ts';
import { ControlError, parseOrThrow, passwordSchema, senderAddressSchema, userNameSchema, type UserSummary } from '../protocol/index.ts';

/** scrypt cost parameters, stored with every hash so they can be raised later. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Options of UserStore.open. */
export interface UserStoreOptions {
  /** Cost of new hashes (default N=16384, r=8, p=1: ~16 MiB and tens of ms per check). */
  scrypt?: ScryptParams;
  now?: () => number;
}

const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;
/** How stale `get` may be: another process's change to the file is seen within this. */
const FRESH_FOR_MS = 1000;

/** How long a verified login is remembered, and for how many users at most. */
const VERIFIED_CACHE_MS = 5 * 60_000;
const VERIFIED_CACHE_MAX = 10_000;

const hashSchema = z
  .object({
    algorithm: z.literal('scrypt'),
    N: z.number().int().min(2).max(2 ** 20),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: z.base64(),
    hash: z.base64(),
  })
  .strict();
type StoredHash = z.output<typeof hashSchema>;

const storedUserSchema = z
  .object({
    name: userNameSchema,
    hash: hashSchema,
    allowedSenders: z.array(senderAddressSchema),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .strict();
type StoredUser = z.output<typeof storedUserSchema>;

const fileSchema = z.object({ version: z.literal(1), users: z.array(storedUserSchema) }).strict();

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

async function makeHash(password: string, params: ScryptParams): Promise<StoredHash> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, params);
  return { algorithm: 'scrypt', ...params, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

const summary = (u: StoredUser): UserSummary => ({ name: u.name, allowedSenders: [...u.allowedSenders], createdAt: u.createdAt, updatedAt: u.updatedAt });

/** The SMTP AUTH users: list/add/remove/setPassword/setAllowedSenders for the API and CLI, verify() for AUTH. */
export class UserStore {
  private users = new Map<string, StoredUser>();
  /** mtime/size/inode of the file as last read or written ('' = no file). */
  private signature = '';
  /** When the file was last looked at (successfully), for `get`'s freshness window. */
  private checkedAt = 0;
  private reloading: Promise<void> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly params: ScryptParams;
  private readonly now: () => number;
  /** Checked against for unknown users, so "no such user" takes as long as "wrong password". */
  private dummy: Promise<StoredHash> | null = null;
  private readonly verified = new Map<string, { hash: string; mac: Buffer; expires: number }>();
  private readonly cacheKey = randomBytes(32);
  /** scrypt computations done by verify() (the cache keeps this low for devices that log in per message). */
  verifyHashes = 0;

  private constructor(
    readonly file: string,
    opts: UserStoreOptions,
  ) {
    this.params = opts.scrypt ?? DEFAULT_SCRYPT;
    this.now = opts.now ?? Date.now;
  }

  /** Open the store (a missing file is an empty store; a malformed one is an error naming the file). */
  static async open(file: string, opts: UserStoreOptions = {}): Promise<UserStore> {
    const store = new UserStore(file, opts);
    await store.reloadIfChanged();
    return store;
  }

  /** Every user, by name (never the hashes). */
  async list(): Promise<UserSummary[]> {
    await this.reloadIfChanged();
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(summary);
  }

  /**
   * One user, or null. Asked at every MAIL FROM of a logged-in client (its allowed senders), so the
   * file is looked at again at most once per FRESH_FOR_MS: a change by `mailrelay user` shows within that.
   */
  async get(name: string): Promise<UserSummary | null> {
    if (Date.now() - this.checkedAt >= FRESH_FOR_MS) await this.reloadIfChanged();
    const u = this.users.get(name);
    return u ? summary(u) : null;
  }

  /** Add a user; CONFLICT when the name exists. */
  async add(name: string, password: string, allowedSenders: string[] = []): Promise<UserSummary> {
    const n = parseOrThrow(userNameSchema, name, 'INVALID_PARAMS', 'user name');
    const pw = parseOrThrow(passwordSchema, password, 'INVALID_PARAMS', 'password');
    const senders = parseOrThrow(z.array(senderAddressSchema), allowedSenders, 'INVALID_PARAMS', 'allowed senders');
    return this.mutate(async () => {
      if (this.users.has(n)) throw new ControlError('CONFLICT', `user "${n}" already exists`);
      const now = this.now();
      const user: StoredUser = { name: n, hash: await makeHash(pw, this.params), allowedSenders: senders, createdAt: now, updatedAt: now };
      this.users.set(n, user);
      return summary(user);
    });
  }

  /** Remove a user; NOT_FOUND when absent. */
  remove(name: string): Promise<void> {
    return this.mutate(async () => {
      if (!this.users.delete(name)) throw new ControlError('NOT_FOUND', `no user "${name}"`);
    });
  }

  /** Replace a user's password (new salt, current cost); NOT_FOUND when absent. */
  async setPassword(name: string, password: string): Promise<UserSummary> {
    const pw = parseOrThrow(passwordSchema, password, 'INVALID_PARAMS', 'password');
    return this.mutate(async () => {
      const user = this.existing(name);
      user.hash = await makeHash(pw, this.params);
      user.updatedAt = this.now();
      return summary(user);
    });
  }

  /** Replace the addresses a user may send as; NOT_FOUND when absent. */
  async setAllowedSenders(name: string, allowedSenders: string[]): Promise<UserSummary> {
    const senders = parseOrThrow(z.array(senderAddressSchema), allowedSenders, 'INVALID_PARAMS', 'allowed senders');
    return this.mutate(async () => {
      const user = this.existing(name);
      user.allowedSenders = senders;
      user.updatedAt = this.now();
      return summary(user);
    });
  }

  /**
   * Check a login. Unknown users cost one scrypt too, and the hash comparison is constant-time, so
   * timing tells neither which names exist nor how close a guess was.
   */
  async verify(name: string, password: string): Promise<boolean> {
    await this.reloadIfChanged();
    const user = this.users.get(name);
    // A device that logs in for every message would otherwise pay a full scrypt per message (tens
    // of ms of CPU). A successful login is remembered for a few minutes as an HMAC under a
    // per-process key, bound to the stored hash so a password change ends it at once.
    const cached = user ? this.verified.get(name) : undefined;
    if (user && cached && cached.expires > Date.now() && cached.hash === user.hash.hash) {
      const mac = createHmac('sha256', this.cacheKey).update(password).digest();
      if (timingSafeEqual(mac, cached.mac)) return true;
    }
    const stored = user?.hash ?? (await (this.dummy ??= makeHash(randomBytes(16).toString('hex'), this.params)));
    const expected = Buffer.from(stored.hash, 'base64');
    this.verifyHashes++;
    const actual = await scrypt(password, Buffer.from(stored.salt, 'base64'), stored);
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected) && user !== undefined;
    if (ok && user) {
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
      this.verified.set(name, { hash: user.hash.hash, mac: createHmac('sha256', this.cacheKey).update(password).digest(), expires: Date.now() + VERIFIED_CACHE_MS });
    }
    return ok;
  }

  private existing(name: string): StoredUser {
    const user = this.users.get(name);
    if (!user) throw new ControlError('NOT_FOUND', `no user "${name}"`);
    return user;
  }

  /** Run one change at a time: re-read the file if someone else changed it, change, write. */
  private mutate<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.reloadIfChanged();
      const before = new Map([...this.users].map(([k, v]) => [k, structuredClone(v)]));
      try {
        const result = await change();
        await this.save();
        return result;
      } catch (err) {
        this.users = before;
        throw err;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async save(): Promise<void> {
    const data = { version: 1 as const, users: [...this.users.values()] };
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
    this.signature = await this.statSignature();
  }

  private async statSignature(): Promise<string> {
    try {
      const st = await fs.stat(this.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** Concurrent callers share one look at the file. */
  private reloadIfChanged(): Promise<void> {
    this.reloading ??= this.reload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async reload(): Promise<void> {
    const started = Date.now();
    await this.readIfChanged();
    // Only after a successful look: a broken file keeps failing every call until it is fixed.
    this.checkedAt = started;
  }

  private async readIfChanged(): Promise<void> {
    const sig = await this.statSignature();
    if (sig === this.signature) return;
    if (sig === '') {
      this.users = new Map();
      this.signature = '';
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(this.file, 'utf8'));
    } catch (err) {
      throw new Error(`${this.file}: cannot read the user store: ${(err as Error).message}`);
    }
    const r = fileSchema.safeParse(json);
    if (!r.success) {
      throw new Error(`${this.file}: not a valid user store: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    this.users = new Map(r.data.users.map((u) => [u.name, u]));
    this.signature = sig;
  }
}
