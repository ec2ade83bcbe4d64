import type { BusRecord, EventBus, StartOffsets, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { decodeEvent, dlqTopic, EventOf, EventValidationError, TopicName } from '@recsys/contracts';
import type { IdempotencyLedger } from './idempotency';
import { classifyError, errorCode, errorMessage } from './errors';
import { DeadLetterLedger, deadLetterOnce, MemoryDeadLetterLedger, sendToDeadLetter } from './dead-letter';

export { PermanentEventError, TransientEventError, classifyError } from './errors';
export { DLQ_HEADERS, sendToDeadLetter } from './dead-letter';

export interface HandlerContext {
  record: BusRecord;
  consumer: string;
}

/** What a consumer reports; the platform's consumerMetrics implements these as Prometheus metrics and readiness. */
export interface ConsumerHooks {
  onApplied?(topic: string): void;
  onDuplicate?(topic: string): void;
  onDeadLetter?(topic: string, code: string, reason: string, group?: string): void;
  /** A record already dead-lettered by this scope came again (redelivery, restart): not produced twice. */
  onDeadLetterSkipped?(topic: string, group: string): void;
  onStarted?(group: string, topic: string, bus: EventBus): void;
  onStopped?(group: string, topic: string): void;
  /** Records up to `lastOffset` of the partition are done (applied, skipped or dead-lettered). */
  onProgress?(group: string, topic: string, partition: number, lastOffset: string): void;
  /** A record failed and will be retried (transient, or unknown below maxAttempts); the partition is paused meanwhile. */
  onRetry?(group: string, topic: string, partition: number, offset: string, attempt: number, kind: string, error: string): void;
  onDeadLetterPartition?(group: string, topic: string, partition: number): void;
}

export interface ConsumerPolicy {
  /** DLQ dedupe ledger; default: one in-process ledger (dedupes redeliveries, not restarts). */
  deadLetters?: DeadLetterLedger;
  /**
   * Name the DLQ dedupe is keyed by and the `dlq-consumer-group` header; default the group id.
   * Replicas that each read everything with their own group share one scope, so a bad record is
   * dead-lettered once for all of them.
   */
  dlqScope?: string;
  /** Attempts of a record failing with an unclassified error before it is dead-lettered as `handler_error` (default 5). */
  maxAttempts?: number;
  /** Check that the record key equals the event's entity key (`key_mismatch` otherwise); default true. */
  checkRecordKey?: boolean;
}

export interface EventConsumerOptions<T extends TopicName> extends ConsumerPolicy {
  bus: EventBus;
  topic: T;
  /** Consumer group id; also the idempotency scope. */
  groupId: string;
  /**
   * Event-id ledger. Omit it only when the handler is idempotent by construction and replays are
   * bounded by offsets it records itself (e.g. the retrieval index, which stores the offsets it
   * applied with each snapshot and upserts are last-write-wins per item).
   */
  ledger?: IdempotencyLedger;
  handle(event: EventOf<T>, ctx: HandlerContext): Promise<void>;
  fromBeginning?: boolean;
  startOffsets?: StartOffsets;
  hooks?: ConsumerHooks;
  /** Set when the handler marks the ledger itself inside its own transaction. */
  handlerMarksLedger?: boolean;
}

/** Default ledger: one per bus (an in-process log and its ledger live and die together). */
const defaultDeadLetters = new WeakMap<EventBus, MemoryDeadLetterLedger>();
const REPORTED = Symbol('retry reported');
function markReported(e: unknown): unknown {
  if (e !== null && typeof e === 'object') (e as { [REPORTED]?: boolean })[REPORTED] = true;
  return e;
}
function isReported(e: unknown): boolean {
  return e !== null && typeof e === 'object' && (e as { [REPORTED]?: boolean })[REPORTED] === true;
}

/** Shared by both consumer kinds: dedupe-aware dead-lettering, record checks, attempt counting. */
export class ConsumerCore<T extends TopicName> {
  readonly deadLetters: DeadLetterLedger;
  readonly scope: string;
  readonly maxAttempts: number;
  private readonly attempts = new Map<string, number>();

  constructor(
    readonly bus: EventBus,
    readonly topic: T,
    readonly groupId: string,
    readonly hooks: ConsumerHooks | undefined,
    private readonly policy: ConsumerPolicy,
  ) {
    let fallback = defaultDeadLetters.get(bus);
    if (!fallback) defaultDeadLetters.set(bus, (fallback = new MemoryDeadLetterLedger()));
    this.deadLetters = policy.deadLetters ?? fallback;
    this.scope = policy.dlqScope ?? groupId;
    this.maxAttempts = Math.max(1, policy.maxAttempts ?? 5);
  }

  async deadLetter(record: BusRecord, code: string, reason: string): Promise<void> {
    const produced = await deadLetterOnce(this.bus, this.deadLetters, this.scope, record, code, reason);
    if (produced) {
      this.hooks?.onDeadLetter?.(record.topic, code, reason, this.groupId);
      this.hooks?.onDeadLetterPartition?.(this.groupId, record.topic, record.partition);
    } else this.hooks?.onDeadLetterSkipped?.(record.topic, this.groupId);
    this.attempts.delete(`${record.partition}:${record.offset}`);
  }

  /** Decodes, validates and checks the record key; dead-letters and returns undefined when invalid. */
  async decode(record: BusRecord): Promise<EventOf<T> | undefined> {
    let event: EventOf<T>;
    try {
      event = decodeEvent(this.topic, record.value);
    } catch (e) {
      const err = e as EventValidationError;
      await this.deadLetter(record, err.code ?? 'event_invalid', err.message);
      return undefined;
    }
    if (this.policy.checkRecordKey !== false) {
      const key = (event as { key: string }).key;
      if (record.key !== key) {
        await this.deadLetter(record, 'key_mismatch', `record key ${record.key === null ? '(none)' : JSON.stringify(record.key.slice(0, 200))} is not the event's entity key ${JSON.stringify(key)}`);
        return undefined;
      }
    }
    return event;
  }

  /**
   * Decides what a handler error on one record means: 'dead-lettered' (permanent, or unknown at
   * its last attempt) or a rethrow (transient, or unknown with attempts left) so the bus pauses
   * the partition and redelivers with backoff.
   */
  async onRecordError(record: BusRecord, e: unknown): Promise<'dead-lettered'> {
    const kind = classifyError(e);
    if (kind === 'permanent') {
      await this.deadLetter(record, errorCode(e, 'rejected'), errorMessage(e));
      return 'dead-lettered';
    }
    const k = `${record.partition}:${record.offset}`;
    const attempt = (this.attempts.get(k) ?? 0) + 1;
    if (kind === 'unknown' && attempt >= this.maxAttempts) {
      await this.deadLetter(record, 'handler_error', `${errorMessage(e)} (failed ${attempt} times)`);
      return 'dead-lettered';
    }
    if (this.attempts.size > 10_000) this.attempts.clear();
    this.attempts.set(k, attempt);
    this.hooks?.onRetry?.(this.groupId, record.topic, record.partition, record.offset, attempt, kind, errorMessage(e));
    throw markReported(e);
  }

  /** A chunk-level transient error: report it against the chunk's first record and rethrow. */
  retryChunk(record: BusRecord, e: unknown): never {
    if (isReported(e)) throw e;
    const k = `${record.partition}:${record.offset}`;
    const attempt = (this.attempts.get(k) ?? 0) + 1;
    this.attempts.set(k, attempt);
    this.hooks?.onRetry?.(this.groupId, record.topic, record.partition, record.offset, attempt, classifyError(e), errorMessage(e));
    throw markReported(e);
  }

  succeeded(record: BusRecord): void {
    if (this.attempts.size) this.attempts.delete(`${record.partition}:${record.offset}`);
    this.hooks?.onProgress?.(this.groupId, record.topic, record.partition, record.offset);
  }

  wrap(sub: Subscription): Subscription {
    this.hooks?.onStarted?.(this.groupId, this.topic, this.bus);
    return {
      stop: async () => {
        try {
          await sub.stop();
        } finally {
          this.hooks?.onStopped?.(this.groupId, this.topic);
        }
      },
    };
  }
}

/**
 * Decodes and validates one record; an invalid one goes to `<topic>.dlq` (reason + original bytes)
 * and undefined comes back, so the caller moves on. (No dedupe: consumers use ConsumerCore.)
 */
export async function decodeOrDeadLetter<T extends TopicName>(bus: EventBus, topic: T, record: BusRecord, groupId: string, hooks?: ConsumerHooks): Promise<EventOf<T> | undefined> {
  try {
    return decodeEvent(topic, record.value);
  } catch (e) {
    const err = e as EventValidationError;
    const code = err.code ?? 'event_invalid';
    await sendToDeadLetter(bus, record, groupId, code, err.message);
    hooks?.onDeadLetter?.(record.topic, code, err.message, groupId);
    return undefined;
  }
}

/**
 * Subscribes a handler to one topic with the platform's guarantees: decode + validate every
 * message and check its record key (invalid -> `<topic>.dlq` once, with the code and reason and
 * the original bytes, then move on), skip event ids already applied, mark them after success.
 * Handler errors follow the poison-message policy (errors.ts): permanent -> DLQ once, transient
 * -> paused and redelivered with backoff, unknown -> retried maxAttempts times, then DLQ.
 */
export async function startEventConsumer<T extends TopicName>(opts: EventConsumerOptions<T>): Promise<Subscription> {
  await opts.bus.ensureTopics([{ topic: opts.topic }, { topic: dlqTopic(opts.topic) }]);
  const core = new ConsumerCore(opts.bus, opts.topic, opts.groupId, opts.hooks, opts);
  const sub = await opts.bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? true,
    startOffsets: opts.startOffsets,
    handler: async (record) => {
      try {
        await handleOne(record);
      } catch (e) {
        core.retryChunk(record, e);
      }
    },
  });
  async function handleOne(record: BusRecord) {
    const event = await core.decode(record);
    if (event === undefined) return core.succeeded(record);
    const id = (event as { eventId: string }).eventId;
    if (opts.ledger && (await opts.ledger.seen(opts.groupId, id))) {
      opts.hooks?.onDuplicate?.(record.topic);
      return core.succeeded(record);
    }
    try {
      await opts.handle(event, { record, consumer: opts.groupId });
    } catch (e) {
      await core.onRecordError(record, e);
      // Dead-lettered: never applied, so never handled again for this group.
      await opts.ledger?.mark(opts.groupId, id);
      return core.succeeded(record);
    }
    if (opts.ledger && !opts.handlerMarksLedger) await opts.ledger.mark(opts.groupId, id);
    opts.hooks?.onApplied?.(record.topic);
    core.succeeded(record);
  }
  return core.wrap(sub);
}
