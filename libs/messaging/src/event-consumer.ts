import type { BusRecord, EventBus, StartOffsets, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { decodeEvent, dlqTopic, EventOf, EventValidationError, TopicName } from '@recsys/contracts';
import type { IdempotencyLedger } from './idempotency';

/**
 * Thrown by a handler for a message that can never succeed (e.g. a behaviour for an item that
 * still is not in the catalog after waiting). The message goes to the DLQ with this reason and
 * the consumer moves on. Any other error is treated as transient and the bus redelivers.
 */
export class PermanentEventError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HandlerContext {
  record: BusRecord;
  consumer: string;
}

export interface ConsumerHooks {
  onApplied?(topic: string): void;
  onDuplicate?(topic: string): void;
  onDeadLetter?(topic: string, code: string, reason: string): void;
}

export interface EventConsumerOptions<T extends TopicName> {
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

/** Headers written on every dead letter, next to the original bytes as the value. */
export const DLQ_HEADERS = {
  code: 'dlq-code',
  reason: 'dlq-reason',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

export async function sendToDeadLetter(bus: EventBus, record: BusRecord, groupId: string, code: string, reason: string) {
  await bus.produce(dlqTopic(record.topic), [
    {
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        [DLQ_HEADERS.code]: code,
        [DLQ_HEADERS.reason]: reason.slice(0, 4000),
        [DLQ_HEADERS.sourceTopic]: record.topic,
        [DLQ_HEADERS.sourcePartition]: String(record.partition),
        [DLQ_HEADERS.sourceOffset]: record.offset,
        [DLQ_HEADERS.consumerGroup]: groupId,
        [DLQ_HEADERS.failedAt]: new Date().toISOString(),
      },
    },
  ]);
}

/**
 * Decodes and validates one record; an invalid one goes to `<topic>.dlq` (reason + original bytes)
 * and undefined comes back, so the caller moves on.
 */
export async function decodeOrDeadLetter<T extends TopicName>(
  bus: EventBus,
  topic: T,
  record: BusRecord,
  groupId: string,
  hooks?: ConsumerHooks,
): Promise<EventOf<T> | undefined> {
  try {
    return decodeEvent(topic, record.value);
  } catch (e) {
    const err = e as EventValidationError;
    const code = err.code ?? 'event_invalid';
    await sendToDeadLetter(bus, record, groupId, code, err.message);
    hooks?.onDeadLetter?.(record.topic, code, err.message);
    return undefined;
  }
}

/**
 * Subscribes a handler to one topic with the platform's guarantees: decode + validate every
 * message (invalid -> `<topic>.dlq` with the reason and original bytes, then move on), skip event
 * ids already applied, mark them after success, let transient errors redeliver.
 */
export async function startEventConsumer<T extends TopicName>(opts: EventConsumerOptions<T>): Promise<Subscription> {
  await opts.bus.ensureTopics([{ topic: opts.topic }, { topic: dlqTopic(opts.topic) }]);
  return opts.bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? true,
    startOffsets: opts.startOffsets,
    handler: async (record) => {
      const event = await decodeOrDeadLetter(opts.bus, opts.topic, record, opts.groupId, opts.hooks);
      if (event === undefined) return;
      const id = (event as { eventId: string }).eventId;
      if (opts.ledger && (await opts.ledger.seen(opts.groupId, id))) {
        opts.hooks?.onDuplicate?.(record.topic);
        return;
      }
      try {
        await opts.handle(event, { record, consumer: opts.groupId });
      } catch (e) {
        if (e instanceof PermanentEventError) {
          await sendToDeadLetter(opts.bus, record, opts.groupId, e.code, e.message);
          opts.hooks?.onDeadLetter?.(record.topic, e.code, e.message);
          await opts.ledger?.mark(opts.groupId, id);
          return;
        }
        throw e;
      }
      if (opts.ledger && !opts.handlerMarksLedger) await opts.ledger.mark(opts.groupId, id);
      opts.hooks?.onApplied?.(record.topic);
    },
  });
}
