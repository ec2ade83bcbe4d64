import type { BusRecord, EventBus, StartOffsets, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { dlqTopic, EventOf, TopicName } from '@recsys/contracts';
import { ConsumerHooks, decodeOrDeadLetter, sendToDeadLetter } from './event-consumer';

export interface DecodedRecord<T extends TopicName> {
  event: EventOf<T>;
  record: BusRecord;
}

export interface BatchOutcome {
  /** Events that can never be applied: dead-lettered with their reason, the rest of the batch commits. */
  rejected?: { index: number; code: string; reason: string }[];
}

export interface EventBatchConsumerOptions<T extends TopicName> {
  bus: EventBus;
  topic: T;
  groupId: string;
  maxBatchSize?: number;
  fromBeginning?: boolean;
  startOffsets?: StartOffsets;
  hooks?: ConsumerHooks;
  /**
   * Applies the valid events of one partition's batch, in order. Must be idempotent by event id
   * itself (a batch is redelivered whole if this throws): the batch path has no per-event ledger
   * round trip, which is what makes high ingest rates possible.
   */
  handleBatch(events: DecodedRecord<T>[]): Promise<BatchOutcome | void>;
}

/** The batch form of startEventConsumer: same validation and DLQ guarantees, one call per fetched batch. */
export async function startEventBatchConsumer<T extends TopicName>(opts: EventBatchConsumerOptions<T>): Promise<Subscription> {
  await opts.bus.ensureTopics([{ topic: opts.topic }, { topic: dlqTopic(opts.topic) }]);
  return opts.bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? true,
    startOffsets: opts.startOffsets,
    maxBatchSize: opts.maxBatchSize ?? 1000,
    batchHandler: async (records) => {
      const valid: DecodedRecord<T>[] = [];
      for (const record of records) {
        const event = await decodeOrDeadLetter(opts.bus, opts.topic, record, opts.groupId, opts.hooks);
        if (event !== undefined) valid.push({ event, record });
      }
      if (valid.length === 0) return;
      const outcome = (await opts.handleBatch(valid)) ?? {};
      const rejected = new Set<number>();
      for (const r of outcome.rejected ?? []) {
        rejected.add(r.index);
        await sendToDeadLetter(opts.bus, valid[r.index].record, opts.groupId, r.code, r.reason);
        opts.hooks?.onDeadLetter?.(opts.topic, r.code, r.reason);
      }
      for (let i = 0; i < valid.length; i++) if (!rejected.has(i)) opts.hooks?.onApplied?.(opts.topic);
    },
  });
}
