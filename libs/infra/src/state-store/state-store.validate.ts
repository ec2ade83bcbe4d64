/**
 * Argument checks shared by every StateStore adapter, so that a bad argument fails the same way
 * (synchronously, with a RangeError) whether the store is Redis or in memory, instead of the memory
 * adapter accepting what Redis would reject.
 */
import type { StateValue } from './state-store.port';

export function toBuffer(value: StateValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** TTLs are whole positive milliseconds (Redis rejects PX 0 and fractional values). */
export function checkTtl(ttlMs: number, what = 'ttlMs'): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`${what} must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
  return ttlMs;
}

/** expire() also accepts 0 or negative values: like PEXPIRE, they delete the key at once. */
export function checkExpire(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs)) throw new RangeError(`ttlMs must be an integer, got ${ttlMs}`);
  return ttlMs;
}

export function checkIncrement(by: number): number {
  if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be a safe integer, got ${by}`);
  return by;
}

export function checkCap(cap: number): number {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`cap must be an integer >= 1, got ${cap}`);
  return cap;
}

export function checkIndex(i: number, what: string): number {
  if (!Number.isSafeInteger(i)) throw new RangeError(`${what} must be an integer, got ${i}`);
  return i;
}

/** The error exec() rejects with: it names the port method, its position and its key. */
export function batchCommandError(kind: 'pipeline' | 'transaction', index: number, command: string, key: string, cause: unknown): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${kind} command #${index} ${command}(${key}) failed: ${message}`, { cause });
}
