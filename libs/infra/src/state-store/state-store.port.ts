/**
 * StateStore: what the services need from Redis. Keys are strings, values are bytes.
 * String inputs are stored as UTF-8. Every adapter passes state-store.contract.ts.
 */
export type StateValue = Buffer | string;

export interface SetOptions {
  /** Expire after this many milliseconds. */
  ttlMs?: number;
  /** Only set when the key does not exist (SET NX). */
  ifAbsent?: boolean;
}

/**
 * Commands that can be batched. Results of exec() come back in order of the calls, typed as the
 * StateStore method of the same name returns them (hset: undefined). If any command fails, exec()
 * rejects with an error naming the first failing method; the other commands still took effect.
 */
export interface StateBatch {
  get(key: string): this;
  set(key: string, value: StateValue, options?: SetOptions): this;
  /** Plain SET of every key (one MSET on Redis, whose keys must share a Cluster slot there); none is a no-op. */
  setMany(entries: ReadonlyArray<readonly [string, StateValue]>): this;
  /** Deletes the keys (one DEL); none is a no-op giving 0. */
  del(...keys: string[]): this;
  incrBy(key: string, by: number): this;
  hset(key: string, fields: Record<string, StateValue>): this;
  /**
   * hset of every entry, as one command (a script on Redis, whose keys must share a Cluster slot
   * there): for a writer touching many hashes at once. Entries without fields change nothing.
   */
  hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): this;
  hdel(key: string, fields: string[]): this;
  hincrBy(key: string, field: string, by: number): this;
  /** Push to the head of a list and trim it to the newest `cap` entries. */
  listPushCapped(key: string, values: StateValue[], cap: number): this;
  expire(key: string, ttlMs: number): this;
  exec(): Promise<unknown[]>;
}

/**
 * The synchronous commands an AtomicScript's in-process twin may call (the memory adapter runs it
 * in one tick, so it is as atomic there as the Lua is on Redis). Values are UTF-8 strings.
 */
export interface ScriptOps {
  get(key: string): string | null;
  /** SET, with PX when ttlMs is given. */
  set(key: string, value: string, ttlMs?: number): void;
  del(key: string): number;
  incrBy(key: string, by: number): number;
  hget(key: string, field: string): string | null;
  hgetall(key: string): Record<string, string>;
  hset(key: string, field: string, value: string): void;
  hdel(key: string, field: string): number;
  hincrBy(key: string, field: string, by: number): number;
  /** PEXPIRE. */
  expire(key: string, ttlMs: number): boolean;
  /** PTTL: -1 without a TTL, -2 when missing. */
  ttlMs(key: string): number;
}

/** What a script returns: Lua integers (numbers), strings, nil (null) and arrays of them (no nil inside). */
export type ScriptReply = number | string | null | ScriptReply[];

/**
 * A script that runs atomically: `lua` on Redis (EVALSHA, EVAL after a NOSCRIPT; KEYS are
 * prefixed like every key, ARGV as given), `local` on the in-process store, which must return
 * exactly what the Lua returns (Lua numbers are truncated to integers by Redis: return integers).
 * Both get the keys unprefixed in `local` and prefixed in `lua`: a script must only touch KEYS.
 */
export interface AtomicScript {
  readonly name: string;
  readonly lua: string;
  local(ops: ScriptOps, keys: string[], args: string[]): ScriptReply;
}

export interface StateStore {
  readonly kind: string;
  get(key: string): Promise<Buffer | null>;
  getMany(keys: string[]): Promise<(Buffer | null)[]>;
  /** Returns false when ifAbsent was set and the key already existed. */
  set(key: string, value: StateValue, options?: SetOptions): Promise<boolean>;
  /** Plain SET of every key, in one command (MSET: like SET, it replaces any type and drops a TTL). */
  setMany(entries: ReadonlyArray<readonly [string, StateValue]>): Promise<void>;
  del(...keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  incrBy(key: string, by: number): Promise<number>;
  hget(key: string, field: string): Promise<Buffer | null>;
  hgetall(key: string): Promise<Record<string, Buffer>>;
  hset(key: string, fields: Record<string, StateValue>): Promise<void>;
  /** hset of every entry, in one command (see StateBatch.hsetMany). */
  hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): Promise<void>;
  hdel(key: string, fields: string[]): Promise<number>;
  hincrBy(key: string, field: string, by: number): Promise<number>;
  listPushCapped(key: string, values: StateValue[], cap: number): Promise<number>;
  /** Inclusive range, 0 = newest; -1 = last. */
  listRange(key: string, start: number, stop: number): Promise<Buffer[]>;
  listLength(key: string): Promise<number>;
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining time to live in ms; -1 when the key has no TTL, -2 when it does not exist. */
  ttlMs(key: string): Promise<number>;
  /** Non-atomic batch, one round trip. */
  pipeline(): StateBatch;
  /**
   * Isolated batch (MULTI/EXEC): no other client's command runs in between. Not a rollback unit:
   * Redis still applies the other commands when one fails at run time (e.g. WRONGTYPE), and exec()
   * then rejects naming it. Argument errors are thrown when the command is added, before anything runs.
   */
  transaction(): StateBatch;
  /** Runs the script atomically: nothing else touches the store between its first and last command. */
  runScript(script: AtomicScript, keys: string[], args: ReadonlyArray<string | number>): Promise<ScriptReply>;
  /** Keys matching a glob-style prefix pattern such as `user:*` (SCAN, for admin and tests). */
  scanKeys(pattern: string): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
