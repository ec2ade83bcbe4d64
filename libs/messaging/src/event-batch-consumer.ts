import type { BusRecord, EventBus, StartOffsets, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { dlqTopic, EventOf, TopicName } from '@recsys/contracts';
import { classifyError } from './errors';
import { ConsumerCore, ConsumerHooks, ConsumerPolicy } from './event-consumer';

export interface DecodedRecord<T extends TopicName> {
  event: EventOf<T>;
  record: BusRecord;
}

export interface BatchOutcome {
  /** Events that can never be applied: dead-lettered with their reason, the rest of the batch commits. */
  rejected?: { index: number; code: string; reason: string }[];
}

export interface EventBatchConsumerOptions<T extends TopicName> extends ConsumerPolicy {
  bus: EventBus;
  topic: T;
  groupId: string;
  maxBatchSize?: number;
  /** See SubscribeOptions.batchLingerMs. */
  batchLingerMs?: number;
  fromBeginning?: boolean;
  startOffsets?: StartOffsets;
  hooks?: ConsumerHooks;
  /**
   * Applies the valid events of one partition's batch, in order. Must be idempotent by event id
   * itself (a batch, or part of it, may be applied again): the batch path has no per-event ledger
   * round trip, which is what makes high ingest rates possible.
   *
   * Errors follow the poison-message policy: a transient error (errors.ts) redelivers the batch
   * after a backoff with the partition paused; any other error is isolated by bisection (the
   * halves are applied separately, down to the one record that fails), and that record is
   * dead-lettered (permanent error, or unknown error at its last attempt) so the rest applies.
   */
  handleBatch(events: DecodedRecord<T>[]): Promise<BatchOutcome | void>;
}

/** The batch form of startEventConsumer: same validation, DLQ and poison-message guarantees, one call per fetched batch. */
export async function startEventBatchConsumer<T extends TopicName>(opts: EventBatchConsumerOptions<T>): Promise<Subscription> {
  await opts.bus.ensureTopics([{ topic: opts.topic }, { topic: dlqTopic(opts.topic) }]);
  const core = new ConsumerCore(opts.bus, opts.topic, opts.groupId, opts.hooks, opts);

  /** Applies `valid` (one partition, in order), bisecting around records whose handler fails. */
  const apply = async (valid: DecodedRecord<T>[]): Promise<void> => {
    let outcome: BatchOutcome | void;
    try {
      outcome = await opts.handleBatch(valid);
    } catch (e) {
      if (valid.length === 1) {
        await core.onRecordError(valid[0].record, e); // rethrows unless dead-lettered
        return;
      }
      if (classifyError(e) === 'transient') core.retryChunk(valid[0].record, e);
      const mid = valid.length >> 1;
      await apply(valid.slice(0, mid));
      await apply(valid.slice(mid));
      return;
    }
    const rejected = new Set<number>();
    for (const r of outcome?.rejected ?? []) {
      if (!valid[r.index] || rejected.has(r.index)) continue;
      rejected.add(r.index);
      await core.deadLetter(valid[r.index].record, r.code, r.reason);
    }
    for (let i = 0; i < valid.length; i++) if (!rejected.has(i)) opts.hooks?.onApplied?.(opts.topic);
  };

  const sub = await opts.bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? true,
    startOffsets: opts.startOffsets,
    maxBatchSize: opts.maxBatchSize ?? 1000,
    batchLingerMs: opts.batchLingerMs,
    batchHandler: async (records) => {
      try {
        const valid: DecodedRecord<T>[] = [];
        for (const record of records) {
          const event = await core.decode(record);
          if (event !== undefined) valid.push({ event, record });
        }
        if (valid.length > 0) await apply(valid);
      } catch (e) {
        core.retryChunk(records[0], e);
      }
      core.succeeded(records[records.length - 1]);
    },
  });
  return core.wrap(sub);
}
