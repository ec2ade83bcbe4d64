/**
 * StateStore on Redis through ioredis 6.
 *
 * Key prefixing is done here (not with ioredis' `keyPrefix` option) so that it also applies to a
 * client passed in by the caller and to SCAN MATCH patterns, which ioredis never prefixes.
 * Every read uses the *Buffer variants of the commands so values round-trip byte for byte.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ChainableCommander, RedisOptions } from 'ioredis';
import type { AtomicScript, ScriptReply, SetOptions, StateBatch, StateStore, StateValue } from './state-store.port';
import { batchCommandError, checkCap, checkExpire, checkIncrement, checkIndex, checkTtl, toBuffer } from './state-store.validate';

export interface RedisStateStoreOptions {
  /** Prepended to every key, e.g. `recsys:`; scanKeys() strips it again. */
  keyPrefix?: string;
  /** ping() rejects after this long (default 1000 ms) so /health never hangs on a dead server. */
  pingTimeoutMs?: number;
  /** Extra ioredis options when the store creates the client from a URL. */
  redisOptions?: RedisOptions;
}

/**
 * Client defaults when the store creates the connection itself:
 * - enableOfflineQueue stays true: commands issued before the first connect (at boot) wait for it
 *   instead of failing; with it false every early command would reject.
 * - maxRetriesPerRequest: 1 (ioredis default 20): while Redis is down, queued commands are
 *   rejected with MaxRetriesPerRequestError after 2 reconnect attempts (well under a second at
 *   first, at most ~10 s once the reconnect backoff reaches its 5 s cap) instead of piling up.
 * - connectTimeout 2 s: a black-holed host is detected quickly.
 * ping() does not rely on these: it fails at once while the client is reconnecting, and after
 * pingTimeoutMs otherwise.
 */
export const REDIS_STATE_STORE_DEFAULTS: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 2000,
};

type Reply = unknown;

/**
 * HSET of several hashes in one command: KEYS are the hashes, ARGV per key the number of fields
 * then field, value, ... At most 500 fields per HSET call, well inside Lua's unpack limit. Sent
 * with EVAL every time (a few hundred bytes per batch): EVALSHA would fail inside MULTI after a
 * SCRIPT FLUSH, and ioredis would not notice it inside a transaction.
 */
const HSET_MANY = `local a = 1
for i = 1, #KEYS do
  local last = a + 2 * tonumber(ARGV[a])
  local j = a + 1
  while j <= last do
    local e = math.min(j + 999, last)
    redis.call('HSET', KEYS[i], unpack(ARGV, j, e))
    j = e + 1
  end
  a = last + 1
end
return #KEYS`;

interface BatchOp {
  command: string;
  key: string;
  /** How many Redis commands this port call queued (0..2). */
  count: number;
  map(replies: Reply[]): unknown;
}

class RedisBatch implements StateBatch {
  private readonly ops: BatchOp[] = [];
  private executed = false;

  constructor(
    private readonly kind: 'pipeline' | 'transaction',
    private readonly chain: ChainableCommander,
    private readonly k: (key: string) => string,
  ) {}

  private op(command: string, key: string, count: number, map: (r: Reply[]) => unknown): this {
    this.ops.push({ command, key, count, map });
    return this;
  }

  get(key: string): this {
    this.chain.getBuffer(this.k(key));
    return this.op('get', key, 1, (r) => r[0] ?? null);
  }

  set(key: string, value: StateValue, options: SetOptions = {}): this {
    queueSet(this.chain, this.k(key), toBuffer(value), options);
    return this.op('set', key, 1, (r) => r[0] === 'OK');
  }

  setMany(entries: ReadonlyArray<readonly [string, StateValue]>): this {
    if (entries.length === 0) return this.op('setMany', '', 0, () => undefined);
    const flat: (string | Buffer)[] = new Array(2 * entries.length);
    entries.forEach(([key, value], i) => {
      flat[2 * i] = this.k(key);
      flat[2 * i + 1] = toBuffer(value);
    });
    this.chain.mset(...flat);
    return this.op('setMany', entries[0][0], 1, () => undefined);
  }

  del(...keys: string[]): this {
    if (keys.length === 0) return this.op('del', '', 0, () => 0);
    this.chain.del(...keys.map(this.k));
    return this.op('del', keys[0], 1, (r) => r[0]);
  }

  incrBy(key: string, by: number): this {
    this.chain.incrby(this.k(key), checkIncrement(by));
    return this.op('incrBy', key, 1, (r) => r[0]);
  }

  hset(key: string, fields: Record<string, StateValue>): this {
    const entries = Object.entries(fields);
    // HSET with no field is a syntax error in Redis; the port treats it as a no-op.
    if (entries.length === 0) return this.op('hset', key, 0, () => undefined);
    const flat: (string | Buffer)[] = [];
    for (const [f, v] of entries) flat.push(f, toBuffer(v));
    this.chain.hset(this.k(key), ...flat);
    return this.op('hset', key, 1, () => undefined);
  }

  hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): this {
    const keys: string[] = [];
    const argv: (string | Buffer)[] = [];
    for (const [key, fields] of entries) {
      const at = argv.length;
      argv.push('');
      let n = 0;
      for (const f in fields) {
        argv.push(f, toBuffer(fields[f]));
        n++;
      }
      if (n === 0) argv.length = at;
      else {
        argv[at] = String(n);
        keys.push(this.k(key));
      }
    }
    if (keys.length === 0) return this.op('hsetMany', '', 0, () => undefined);
    this.chain.eval(HSET_MANY, keys.length, ...keys, ...argv);
    return this.op('hsetMany', entries[0][0], 1, () => undefined);
  }

  hdel(key: string, fields: string[]): this {
    if (fields.length === 0) return this.op('hdel', key, 0, () => 0);
    this.chain.hdel(this.k(key), ...fields);
    return this.op('hdel', key, 1, (r) => r[0]);
  }

  hincrBy(key: string, field: string, by: number): this {
    this.chain.hincrby(this.k(key), field, checkIncrement(by));
    return this.op('hincrBy', key, 1, (r) => r[0]);
  }

  /**
   * LPUSH then LTRIM, adjacent. Inside transaction() they are atomic; inside pipeline() another
   * client may briefly see the untrimmed list (a pipeline promises no atomicity).
   * The result is the length after the trim.
   */
  listPushCapped(key: string, values: StateValue[], cap: number): this {
    checkCap(cap);
    const k = this.k(key);
    if (values.length === 0) {
      this.chain.ltrim(k, 0, cap - 1);
      this.chain.llen(k);
      return this.op('listPushCapped', key, 2, (r) => r[1]);
    }
    this.chain.lpush(k, ...values.map(toBuffer));
    this.chain.ltrim(k, 0, cap - 1);
    return this.op('listPushCapped', key, 2, (r) => Math.min(r[0] as number, cap));
  }

  expire(key: string, ttlMs: number): this {
    this.chain.pexpire(this.k(key), checkExpire(ttlMs));
    return this.op('expire', key, 1, (r) => r[0] === 1);
  }

  async exec(): Promise<unknown[]> {
    if (this.executed) throw new Error(`${this.kind} already executed`);
    this.executed = true;
    if (this.ops.every((o) => o.count === 0)) return this.ops.map((o) => o.map([]));
    let raw: [Error | null, Reply][] | null;
    try {
      raw = await this.chain.exec();
    } catch (err) {
      // EXECABORT (a command rejected while queueing) or a connection failure: nothing applied.
      throw new Error(`${this.kind} failed: ${(err as Error).message}`, { cause: err });
    }
    if (raw === null) throw new Error(`${this.kind} aborted by the server`);
    const results: unknown[] = [];
    let firstError: Error | undefined;
    let at = 0;
    this.ops.forEach((op, index) => {
      const slice = raw!.slice(at, at + op.count);
      at += op.count;
      const failed = slice.find(([e]) => e);
      if (failed) {
        firstError ??= batchCommandError(this.kind, index, op.command, op.key, failed[0]);
        results.push(undefined);
      } else {
        results.push(op.map(slice.map(([, r]) => r)));
      }
    });
    // Redis runs the other commands of a MULTI even when one fails (no rollback), so the caller
    // learns about the failure but must not assume the rest was undone.
    if (firstError) throw firstError;
    return results;
  }
}

function queueSet(chain: ChainableCommander | Redis, key: string, value: Buffer, options: SetOptions): void {
  const ttl = options.ttlMs === undefined ? undefined : checkTtl(options.ttlMs);
  if (ttl !== undefined && options.ifAbsent) chain.set(key, value, 'PX', ttl, 'NX');
  else if (ttl !== undefined) chain.set(key, value, 'PX', ttl);
  else if (options.ifAbsent) chain.set(key, value, 'NX');
  else chain.set(key, value);
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  readonly client: Redis;
  private readonly prefix: string;
  private readonly pingTimeoutMs: number;
  /** Only a client this store created is closed by close(). */
  private readonly ownsClient: boolean;
  private lastError: Error | undefined;

  constructor(urlOrClient: string | Redis, options: RedisStateStoreOptions = {}) {
    this.prefix = options.keyPrefix ?? '';
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1000;
    if (typeof urlOrClient === 'string') {
      this.client = new Redis(urlOrClient, { ...REDIS_STATE_STORE_DEFAULTS, ...options.redisOptions });
      this.ownsClient = true;
    } else {
      this.client = urlOrClient;
      this.ownsClient = false;
    }
    // Without a listener ioredis prints every reconnect error; keep the last one for ping().
    this.client.on('error', (err: Error) => {
      this.lastError = err;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
    });
  }

  private readonly k = (key: string): string => this.prefix + key;

  async get(key: string): Promise<Buffer | null> {
    return this.client.getBuffer(this.k(key));
  }

  async getMany(keys: string[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    return this.client.mgetBuffer(...keys.map(this.k));
  }

  async set(key: string, value: StateValue, options: SetOptions = {}): Promise<boolean> {
    const [ok] = await this.pipeline().set(key, value, options).exec();
    return ok as boolean;
  }

  async setMany(entries: ReadonlyArray<readonly [string, StateValue]>): Promise<void> {
    await this.pipeline().setMany(entries).exec();
  }

  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.client.del(...keys.map(this.k));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.exists(this.k(key))) === 1;
  }

  async incrBy(key: string, by: number): Promise<number> {
    return this.client.incrby(this.k(key), checkIncrement(by));
  }

  async hget(key: string, field: string): Promise<Buffer | null> {
    return this.client.hgetBuffer(this.k(key), field);
  }

  async hgetall(key: string): Promise<Record<string, Buffer>> {
    return this.client.hgetallBuffer(this.k(key));
  }

  async hset(key: string, fields: Record<string, StateValue>): Promise<void> {
    await this.pipeline().hset(key, fields).exec();
  }

  async hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): Promise<void> {
    await this.pipeline().hsetMany(entries).exec();
  }

  async hdel(key: string, fields: string[]): Promise<number> {
    if (fields.length === 0) return 0;
    return this.client.hdel(this.k(key), ...fields);
  }

  async hincrBy(key: string, field: string, by: number): Promise<number> {
    return this.client.hincrby(this.k(key), field, checkIncrement(by));
  }

  /** LPUSH + LTRIM in one MULTI, so no reader ever sees more than `cap` entries. */
  async listPushCapped(key: string, values: StateValue[], cap: number): Promise<number> {
    const [len] = await this.transaction().listPushCapped(key, values, cap).exec();
    return len as number;
  }

  async listRange(key: string, start: number, stop: number): Promise<Buffer[]> {
    return this.client.lrangeBuffer(this.k(key), checkIndex(start, 'start'), checkIndex(stop, 'stop'));
  }

  async listLength(key: string): Promise<number> {
    return this.client.llen(this.k(key));
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.client.pexpire(this.k(key), checkExpire(ttlMs))) === 1;
  }

  async ttlMs(key: string): Promise<number> {
    return this.client.pttl(this.k(key));
  }

  pipeline(): StateBatch {
    return new RedisBatch('pipeline', this.client.pipeline(), this.k);
  }

  transaction(): StateBatch {
    return new RedisBatch('transaction', this.client.multi(), this.k);
  }

  private readonly shas = new Map<string, string>();

  /** EVALSHA (the script cached by Redis), EVAL once after a NOSCRIPT (a restart or SCRIPT FLUSH). */
  async runScript(script: AtomicScript, keys: string[], args: ReadonlyArray<string | number>): Promise<ScriptReply> {
    let sha = this.shas.get(script.lua);
    if (!sha) {
      sha = createHash('sha1').update(script.lua).digest('hex');
      this.shas.set(script.lua, sha);
    }
    const k = keys.map(this.k);
    const a = args.map(String);
    try {
      return (await this.client.evalsha(sha, k.length, ...k, ...a)) as ScriptReply;
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return (await this.client.eval(script.lua, k.length, ...k, ...a)) as ScriptReply;
    }
  }

  /** SCAN MATCH <prefix><pattern> COUNT 1000; SCAN may repeat keys, so results are deduplicated. */
  async scanKeys(pattern: string): Promise<string[]> {
    const match = escapeGlob(this.prefix) + pattern;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      for (const key of keys) found.add(key.slice(this.prefix.length));
      cursor = next;
    } while (cursor !== '0');
    return [...found];
  }

  async ping(): Promise<void> {
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      throw new Error(`redis unavailable (connection ${status})${this.lastError ? `: ${this.lastError.message}` : ''}`);
    }
    const reply = this.client.ping();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis ping timed out after ${this.pingTimeoutMs} ms${this.lastError ? `: ${this.lastError.message}` : ''}`)), this.pingTimeoutMs);
    });
    reply.catch(() => undefined); // it may settle after the timeout won
    try {
      await Promise.race([reply, timeout]);
    } catch (err) {
      const message = (err as Error).message;
      throw message.startsWith('redis ') ? err : new Error(`redis ping failed: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
