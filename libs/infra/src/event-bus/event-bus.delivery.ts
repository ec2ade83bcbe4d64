/**
 * Pieces both EventBus adapters share: option checks, redelivery backoff, an interruptible sleep
 * and the default handler-error report. Kept here so the two adapters cannot drift apart on the
 * semantics the contract suite checks.
 */
import type { BusRecord, ProduceRecord, SubscribeOptions } from './event-bus.port';

export const DEFAULT_PARTITIONS = 4;
export const DEFAULT_MAX_BATCH_SIZE = 500;

/** Redelivery backoff after a handler failure: initialMs * 2^(attempt-1), capped at maxMs. */
export interface RetryBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { initialMs: 100, maxMs: 5_000 };

export function backoffMs(policy: RetryBackoff, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/** What a handler-error listener is told; `attempt` counts failures of this record/batch so far. */
export interface HandlerFailure {
  groupId: string;
  topic: string;
  partition: number;
  /** Offset of the first record handed to the failing handler call. */
  offset: string;
  records: number;
  attempt: number;
  retryInMs: number;
}

export type HandlerErrorListener = (error: unknown, failure: HandlerFailure) => void;

export const logHandlerError: HandlerErrorListener = (error, f) => {
  const msg = error instanceof Error ? error.message : String(error);
  console.warn(`[event-bus] handler failed (group ${f.groupId}, ${f.topic}[${f.partition}]@${f.offset}, ${f.records} record(s), attempt ${f.attempt}); redelivering in ${f.retryInMs} ms: ${msg}`);
};

export type DeliveryMode =
  { kind: 'record'; handler: (record: BusRecord) => Promise<void> } | { kind: 'batch'; batchHandler: (records: BusRecord[]) => Promise<void>; maxBatchSize: number; lingerMs: number };

/** Validates subscribe options and says how records are handed over. */
export function deliveryMode(options: SubscribeOptions): DeliveryMode {
  if (!options.groupId) throw new Error('subscribe: groupId is required');
  if (!options.topics?.length) throw new Error('subscribe: at least one topic is required');
  if (!!options.handler === !!options.batchHandler) {
    throw new Error('subscribe: give exactly one of handler / batchHandler');
  }
  for (const [topic, parts] of Object.entries(options.startOffsets ?? {})) {
    if (!options.topics.includes(topic)) throw new Error(`subscribe: startOffsets names topic ${topic} that is not subscribed`);
    for (const [p, off] of Object.entries(parts)) {
      if (!/^\d+$/.test(p) || !/^\d+$/.test(String(off))) throw new Error(`subscribe: bad start offset ${topic}[${p}]=${off}`);
    }
  }
  if (options.handler) return { kind: 'record', handler: options.handler };
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new Error('subscribe: maxBatchSize must be a positive integer');
  const lingerMs = options.batchLingerMs ?? 0;
  if (!Number.isFinite(lingerMs) || lingerMs < 0) throw new Error('subscribe: batchLingerMs must be a non-negative number');
  return { kind: 'batch', batchHandler: options.batchHandler!, maxBatchSize, lingerMs };
}

export function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

export function validateProduce(topic: string, records: ProduceRecord[]): void {
  if (!topic) throw new Error('produce: topic is required');
  for (const r of records) {
    if (r.value === undefined || r.value === null) throw new Error(`produce: record without value for ${topic}`);
  }
}

/**
 * A one-way stop flag whose sleeps end early when it is raised, so that stop() never waits out a
 * redelivery backoff.
 */
export class StopSignal {
  private raised = false;
  private readonly wakers = new Set<() => void>();

  get stopped(): boolean {
    return this.raised;
  }

  raise(): void {
    if (this.raised) return;
    this.raised = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  /** Resolves after `ms`, or at once when the signal is (or gets) raised. */
  sleep(ms: number): Promise<void> {
    if (this.raised) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Resolves when `waitFor` resolves or the signal is raised, whichever comes first. */
  race(waitFor: Promise<void>): Promise<void> {
    if (this.raised) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      waitFor.then(wake, wake);
    });
  }
}
