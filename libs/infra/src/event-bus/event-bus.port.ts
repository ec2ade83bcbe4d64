/**
 * EventBus: an ordered, partitioned, replayable log with consumer groups (Kafka semantics).
 *
 * Invariants every adapter keeps (checked by event-bus.contract.ts):
 * - Records with the same key land in the same partition, and a partition is delivered in order.
 * - A group's offset for a partition is committed only after the handler for that record resolved
 *   (at-least-once). If the handler throws, the record is redelivered after a backoff and no later
 *   offset of that partition is committed.
 * - Within one group a partition is handled by one subscriber at a time; a second subscriber of the
 *   same group shares the partitions; different groups each see every record.
 * - `fromBeginning` applies only when the group has no committed offset; `startOffsets` overrides
 *   both (used to replay from a snapshot's recorded offsets).
 * - Keys are partitioned like Kafka's default partitioner (murmur2 of the UTF-8 key): a key gets
 *   the same partition number in every adapter. Records without a key are spread round-robin.
 * - Topics must exist (ensureTopics) before produce/subscribe/endOffsets; partitions default to 4.
 */
export interface BusRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as decimal strings. */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

export interface ProduceRecord {
  key?: string | null;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
}

/** topic -> partition -> next offset to read (the offset of the first record not yet applied). */
export type StartOffsets = Record<string, Record<number, string>>;

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** Where a new group starts: the oldest record (true) or the end of the log (default). */
  fromBeginning?: boolean;
  /**
   * Applied to the partitions this subscription gets in its first assignment (partitions that
   * first go to another member of the group keep the group's position). Not committed by itself:
   * the group's offsets move as records are handled.
   */
  startOffsets?: StartOffsets;
  /** Exactly one of handler / batchHandler. */
  handler?: (record: BusRecord) => Promise<void>;
  /**
   * Batch mode for high-rate consumers: records of ONE partition, in offset order, as many as one
   * fetch returned (max `maxBatchSize`). The partition's offset is committed after the batch
   * resolves; if it throws, the whole batch is redelivered after a backoff.
   */
  batchHandler?: (records: BusRecord[]) => Promise<void>;
  maxBatchSize?: number;
  /**
   * Batch mode: when fewer than maxBatchSize records are waiting, wait up to this long for more
   * before delivering (Kafka: fetch.min.bytes with fetch.max.wait.ms = this). For consumers whose
   * cost is per batch (one SQL transaction), trading this much freshness for fewer, larger batches.
   */
  batchLingerMs?: number;
}

export interface Subscription {
  /**
   * Stops fetching, waits for the in-flight handler, commits what was handled, leaves the group.
   * Do not await it from inside this subscription's own handler (it would wait for itself).
   */
  stop(): Promise<void>;
}

export interface EventBus {
  readonly kind: string;
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  produce(topic: string, records: ProduceRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Latest offset per partition (the offset the next produced record will get). */
  endOffsets(topic: string): Promise<Record<number, string>>;
  /** Resolves when the bus is reachable; rejects otherwise (used by /health). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
