/**
 * Pipelines and transactions of MemoryStateStore: commands are validated and their values copied
 * when added, then run by exec() in one synchronous loop (atomic with respect to every caller).
 */
import type { SetOptions, StateBatch, StateValue } from './state-store.port';
import type { MemoryStateStore } from './state-store.memory.adapter';
import { batchCommandError, checkCap, checkExpire, checkIncrement, checkTtl, toBuffer } from './state-store.validate';

export const copy = (b: Buffer): Buffer => Buffer.from(b);

interface QueuedOp {
  command: string;
  key: string;
  run(): unknown;
}

export class MemoryBatch implements StateBatch {
  private readonly ops: QueuedOp[] = [];
  private executed = false;

  constructor(
    private readonly kind: 'pipeline' | 'transaction',
    private readonly store: MemoryStateStore,
  ) {}

  private op(command: string, key: string, run: () => unknown): this {
    this.ops.push({ command, key, run });
    return this;
  }

  get(key: string): this {
    return this.op('get', key, () => this.store.getSync(key));
  }
  set(key: string, value: StateValue, options: SetOptions = {}): this {
    if (options.ttlMs !== undefined) checkTtl(options.ttlMs);
    const buf = copy(toBuffer(value));
    return this.op('set', key, () => this.store.setSync(key, buf, options));
  }
  setMany(entries: ReadonlyArray<readonly [string, StateValue]>): this {
    const copied = entries.map(([k, v]) => [k, copy(toBuffer(v))] as const);
    return this.op('setMany', entries[0]?.[0] ?? '', () => this.store.setManySync(copied));
  }
  del(...keys: string[]): this {
    return this.op('del', keys[0] ?? '', () => this.store.delSync(keys));
  }
  incrBy(key: string, by: number): this {
    checkIncrement(by);
    return this.op('incrBy', key, () => this.store.incrBySync(key, by));
  }
  hset(key: string, fields: Record<string, StateValue>): this {
    const copied = Object.entries(fields).map(([f, v]) => [f, copy(toBuffer(v))] as const);
    return this.op('hset', key, () => this.store.hsetSync(key, copied));
  }
  hsetMany(entries: ReadonlyArray<readonly [string, Record<string, StateValue>]>): this {
    const copied = entries.map(([k, fields]) => [k, Object.entries(fields).map(([f, v]) => [f, copy(toBuffer(v))] as const)] as const);
    return this.op('hsetMany', entries[0]?.[0] ?? '', () => {
      for (const [k, fields] of copied) this.store.hsetSync(k, fields);
      return undefined;
    });
  }
  hdel(key: string, fields: string[]): this {
    return this.op('hdel', key, () => this.store.hdelSync(key, fields));
  }
  hincrBy(key: string, field: string, by: number): this {
    checkIncrement(by);
    return this.op('hincrBy', key, () => this.store.hincrBySync(key, field, by));
  }
  listPushCapped(key: string, values: StateValue[], cap: number): this {
    checkCap(cap);
    const copied = values.map((v) => copy(toBuffer(v)));
    return this.op('listPushCapped', key, () => this.store.listPushCappedSync(key, copied, cap));
  }
  expire(key: string, ttlMs: number): this {
    checkExpire(ttlMs);
    return this.op('expire', key, () => this.store.expireSync(key, ttlMs));
  }

  async exec(): Promise<unknown[]> {
    if (this.executed) throw new Error(`${this.kind} already executed`);
    this.executed = true;
    const results: unknown[] = [];
    let firstError: Error | undefined;
    // One synchronous loop: atomic with respect to every other caller. Like Redis MULTI, a failing
    // command does not undo the others; exec() then rejects naming the first failure.
    this.ops.forEach((op, index) => {
      try {
        results.push(op.run());
      } catch (err) {
        firstError ??= batchCommandError(this.kind, index, op.command, op.key, err);
        results.push(undefined);
      }
    });
    if (firstError) throw firstError;
    return results;
  }
}
