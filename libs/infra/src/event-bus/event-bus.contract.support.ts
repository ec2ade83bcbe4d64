/** Small helpers for event-bus.contract.ts: collecting deliveries and waiting for conditions. */
import type { BusRecord } from './event-bus.port';

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(15);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Records a subscriber received, in delivery order. */
export class Collector {
  readonly records: BusRecord[] = [];

  /** A handler that records every delivery, after an optional per-record hook (which may throw). */
  handler(hook?: (r: BusRecord) => Promise<void> | void): (r: BusRecord) => Promise<void> {
    return async (r) => {
      if (hook) await hook(r);
      this.records.push(r);
    };
  }

  values(): string[] {
    return this.records.map((r) => r.value.toString('utf8'));
  }

  waitFor(n: number, timeoutMs: number): Promise<void> {
    return waitUntil(
      () => this.records.length >= n,
      timeoutMs,
      () => `${n} records (have ${this.records.length})`,
    );
  }
}

export const tp = (r: BusRecord) => `${r.partition}:${r.offset}`;

/** Values that occur more than once. */
export function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

export function range(n: number, prefix = ''): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}
