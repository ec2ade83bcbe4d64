/**
 * In-memory StateStore for the embedded (single process) mode and unit tests.
 *
 * It mirrors the Redis behaviours the contract pins down: values are copied Buffers, empty hashes
 * and lists disappear, type mismatches raise WRONGTYPE, integer parsing is as strict as Redis'.
 * Every operation is synchronous underneath, which makes batches atomic: exec() applies all
 * commands in one tick, so no other caller can observe or interleave with a half-applied batch.
 */
import type { AtomicScript, ScriptOps, ScriptReply, SetOptions, StateBatch, StateStore, StateValue } from './state-store.port';
import { MemoryBatch, copy } from './state-store.memory.batch';
import { checkCap, checkExpire, checkIncrement, checkIndex, checkTtl, toBuffer } from './state-store.validate';
import { globToRegExp } from './state-store.glob';

type Entry = { type: 'string'; value: Buffer; expiresAt?: number } | { type: 'hash'; value: Map<string, Buffer>; expiresAt?: number } | { type: 'list'; value: Buffer[]; expiresAt?: number };

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Redis' string2ll: optional minus, no plus sign, no leading zeros, no spaces. */
const STRICT_INT = /^(0|-?[1-9][0-9]{0,19})$/;

function parseInt64(buf: Buffer, message: string): bigint {
  const s = buf.toString('latin1');
  if (!STRICT_INT.test(s)) throw new Error(message);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(message);
  return n;
}

function addInt64(current: bigint, by: number): number {
  const next = current + BigInt(by);
  if (next < INT64_MIN || next > INT64_MAX) throw new Error('ERR increment or decrement would overflow');
  return Number(next);
}

export interface MemoryStateStoreOptions {
  /** How often expired keys are swept (they are also dropped lazily on access). Default 1000 ms. */
  sweepIntervalMs?: number;
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly data = new Map<string, Entry>();
  /** Keys that carry a TTL, so the sweep does not walk the whole map. */
  private readonly expiring = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.sweeper.unref();
  }

  /** Drops expired keys; returns how many. */
  sweep(now = Date.now()): number {
    let n = 0;
    for (const key of this.expiring) {
      const e = this.data.get(key);
      if (!e || e.expiresAt === undefined) this.expiring.delete(key);
      else if (e.expiresAt <= now) {
        this.remove(key);
        n++;
      }
    }
    return n;
  }

  private remove(key: string): boolean {
    this.expiring.delete(key);
    return this.data.delete(key);
  }

  private entry(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.remove(key);
      return undefined;
    }
    return e;
  }

  private typed<T extends Entry['type']>(key: string, type: T): Extract<Entry, { type: T }> | undefined {
    const e = this.entry(key);
    if (e && e.type !== type) throw new Error(WRONGTYPE);
    return e as Extract<Entry, { type: T }> | undefined;
  }

  // Synchronous primitives, shared by the async methods and by batches.

  getSync(key: string): Buffer | null {
    const e = this.typed(key, 'string');
    return e ? copy(e.value) : null;
  }

  setSync(key: string, value: Buffer, options: SetOptions): boolean {
    if (options.ifAbsent && this.entry(key)) return false;
    // Like SET: replaces any type and drops a previous TTL unless a new one is given.
    this.remove(key);
    const e: Entry = { type: 'string', value };
    if (options.ttlMs !== undefined) {
      e.expiresAt = Date.now() + options.ttlMs;
      this.expiring.add(key);
    }
    this.data.set(key, e);
    return true;
  }

  setManySync(entries: ReadonlyArray<readonly [string, Buffer]>): undefined {
    for (const [k, v] of entries) this.setSync(k, v, {});
    return undefined;
  }

  delSync(keys: string[]): number {
    let n = 0;
    for (const key of keys) if (this.entry(key) && this.remove(key)) n++;
    return n;
  }

  incrBySync(key: string, by: number): number {
    const e = this.typed(key, 'string');
    const current = e ? parseInt64(e.value, 'ERR value is not an integer or out of range') : 0n;
    const next = addInt64(current, by);
    const value = Buffer.from(String(next));
    if (e)
      e.value = value; // keeps the TTL, as INCRBY does
    else this.data.set(key, { type: 'string', value });
    return next;
  }

  hsetSync(key: string, fields: ReadonlyArray<readonly [string, Buffer]>): void {
    if (fields.length === 0) return;
    let e = this.typed(key, 'hash');
    if (!e) {
      e = { type: 'hash', value: new Map() };
      this.data.set(key, e);
    }
    for (const [f, v] of fields) e.value.set(f, v);
  }

  hdelSync(key: string, fields: string[]): number {
    const e = this.typed(key, 'hash');
    if (!e) return 0;
    let n = 0;
    for (const f of fields) if (e.value.delete(f)) n++;
    if (e.value.size === 0) this.remove(key);
    return n;
  }

  hincrBySync(key: string, field: string, by: number): number {
    let e = this.typed(key, 'hash');
    const cur = e?.value.get(field);
    const current = cur ? parseInt64(cur, 'ERR hash value is not an integer') : 0n;
    const next = addInt64(current, by);
    if (!e) {
      e = { type: 'hash', value: new Map() };
      this.data.set(key, e);
    }
    e.value.set(field, Buffer.from(String(next)));
    return next;
  }

  listPushCappedSync(key: string, values: Buffer[], cap: number): number {
    const e = this.typed(key, 'list');
    // LPUSH a b c puts c at the head: the last value given is the newest.
    const pushed = values.slice().reverse();
    const list = e ? pushed.concat(e.value) : pushed;
    if (list.length > cap) list.length = cap;
    if (list.length === 0) {
      if (e) this.remove(key);
      return 0;
    }
    if (e) e.value = list;
    else this.data.set(key, { type: 'list', value: list });
    return list.length;
  }

  expireSync(key: string, ttlMs: number): boolean {
    const e = this.entry(key);
    if (!e) return false;
    if (ttlMs <= 0) {
      this.remove(key);
      return true;
    }
    e.expiresAt = Date.now() + ttlMs;
    this.expiring.add(key);
    return true;
  }

  // StateStore

  async get(key: string): Promise<Buffer | null> {
    return this.getSync(key);
  }

  async getMany(keys: string[]): Promise<(Buffer | null)[]> {
    // MGET answers null for keys of another type instead of failing.
    return keys.map((k) => {
      const e = this.entry(k);
      return e?.type === 'string' ? copy(e.value) : null;
    });
  }

  async set(key: string, value: StateValue, options: SetOptions = {}): Promise<boolean> {
    if (options.ttlMs !== undefined) checkTtl(options.ttlMs);
    return this.setSync(key, copy(toBuffer(value)), options);
  }

  async setMany(entries: ReadonlyArray<readonly [string, StateValue]>): Promise<void> {
    this.setManySync(entries.map(([k, v]) => [k, copy(toBuffer(v))] as const));
  }

  async del(...keys: string[]): Promise<number> {
    return this.delSync(keys);
  }

  async exists(key: string): Promise<boolean> {
    return this.entry(key) !== undefined;
  }

  async incrBy(key: string, by: number): Promise<number> {
    return this.incrBySync(key, checkIncrement(by));
  }

  async hget(key: string, field: string): Promise<Buffer | null> {
    const v = this.typed(key, 'hash')?.value.get(field);
    return v ? copy(v) : null;
  }

  async hgetall(key: string): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    const e = this.typed(key, 'hash');
    if (e) for (const [f, v] of e.value) out[f] = copy(v);
    return out;
  }

  async hset(key: string, fields: Record<string, StateValue>): Promise<void> {
    this.hsetSync(
      key,
      Object.entries(fields).map(([f, v]) => [f, copy(toBuffer(v))] as const),
    );
  }

  async hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): Promise<void> {
    await this.pipeline().hsetMany(entries).exec();
  }

  async hdel(key: string, fields: string[]): Promise<number> {
    return this.hdelSync(key, fields);
  }

  async hincrBy(key: string, field: string, by: number): Promise<number> {
    return this.hincrBySync(key, field, checkIncrement(by));
  }

  async listPushCapped(key: string, values: StateValue[], cap: number): Promise<number> {
    return this.listPushCappedSync(
      key,
      values.map((v) => copy(toBuffer(v))),
      checkCap(cap),
    );
  }

  /** LRANGE index rules: negatives count from the tail, out-of-range ends are clamped. */
  async listRange(key: string, start: number, stop: number): Promise<Buffer[]> {
    checkIndex(start, 'start');
    checkIndex(stop, 'stop');
    const list = this.typed(key, 'list')?.value;
    if (!list) return [];
    const len = list.length;
    let from = start < 0 ? len + start : start;
    let to = stop < 0 ? len + stop : stop;
    if (from < 0) from = 0;
    if (to >= len) to = len - 1;
    if (from > to) return [];
    return list.slice(from, to + 1).map(copy);
  }

  async listLength(key: string): Promise<number> {
    return this.typed(key, 'list')?.value.length ?? 0;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return this.expireSync(key, checkExpire(ttlMs));
  }

  async ttlMs(key: string): Promise<number> {
    const e = this.entry(key);
    if (!e) return -2;
    if (e.expiresAt === undefined) return -1;
    return Math.max(0, e.expiresAt - Date.now());
  }

  pipeline(): StateBatch {
    return new MemoryBatch('pipeline', this);
  }

  transaction(): StateBatch {
    return new MemoryBatch('transaction', this);
  }

  /** The script's `local` twin, run synchronously: no other caller interleaves with it. */
  async runScript(script: AtomicScript, keys: string[], args: ReadonlyArray<string | number>): Promise<ScriptReply> {
    return script.local(this.scriptOps, [...keys], args.map(String));
  }

  private readonly scriptOps: ScriptOps = {
    get: (key) => this.getSync(key)?.toString('utf8') ?? null,
    set: (key, value, ttlMs) => {
      if (ttlMs !== undefined) checkTtl(ttlMs);
      this.setSync(key, Buffer.from(value, 'utf8'), ttlMs === undefined ? {} : { ttlMs });
    },
    del: (key) => this.delSync([key]),
    incrBy: (key, by) => this.incrBySync(key, checkIncrement(by)),
    hget: (key, field) => this.typed(key, 'hash')?.value.get(field)?.toString('utf8') ?? null,
    hgetall: (key) => {
      const out: Record<string, string> = {};
      const e = this.typed(key, 'hash');
      if (e) for (const [f, v] of e.value) out[f] = v.toString('utf8');
      return out;
    },
    hset: (key, field, value) => this.hsetSync(key, [[field, Buffer.from(value, 'utf8')]]),
    hdel: (key, field) => this.hdelSync(key, [field]),
    hincrBy: (key, field, by) => this.hincrBySync(key, field, checkIncrement(by)),
    expire: (key, ttlMs) => this.expireSync(key, checkExpire(ttlMs)),
    ttlMs: (key) => {
      const e = this.entry(key);
      if (!e) return -2;
      return e.expiresAt === undefined ? -1 : Math.max(0, e.expiresAt - Date.now());
    },
  };

  async scanKeys(pattern: string): Promise<string[]> {
    const re = globToRegExp(pattern);
    const now = Date.now();
    const out: string[] = [];
    for (const [key, e] of this.data) {
      if (e.expiresAt !== undefined && e.expiresAt <= now) continue;
      if (re.test(key)) out.push(key);
    }
    return out;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
