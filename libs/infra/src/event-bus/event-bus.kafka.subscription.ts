/**
 * One EventBus subscription on Kafka: one kafkajs consumer (one group member), `autoCommit: false`.
 *
 * Commits: after the handler resolves for a record (or a batch), its next offset becomes pending;
 * pending offsets are committed at the end of every fetched batch, at least every
 * `commitIntervalMs` inside a long batch, right away once stop() was called, and before stop()
 * leaves the group. A commit never covers a record whose handler has not resolved (at-least-once);
 * what a rebalance can cost is redelivery of the records handled since the last commit.
 *
 * Handler errors: the partition is paused and resumed after a backoff; it is then fetched again
 * from the failing record (its offset was never resolved), while the other partitions go on. The
 * error never reaches kafkajs, so the consumer never crashes because of a handler.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { backoffMs, DeliveryMode, HandlerErrorListener, RetryBackoff, StopSignal } from './event-bus.delivery';
import type { BusRecord, SubscribeOptions, Subscription } from './event-bus.port';

/** Bytes a lingering fetch waits for (or the linger, whichever comes first): about a full batch of small events. */
const LINGER_MIN_BYTES = 1 << 20;

export interface KafkaSubscriptionSettings {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitTimeInMs: number;
  commitIntervalMs: number;
  partitionsConsumedConcurrently: number;
  joinTimeoutMs: number;
  retryBackoff: RetryBackoff;
  onHandlerError: HandlerErrorListener;
}

interface PendingCommit {
  topic: string;
  partition: number;
  offset: string;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export function toBusRecord(topic: string, partition: number, m: KafkaMessage): BusRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    // Kafka allows repeated header keys; the port has one value per key: the last one wins.
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    headers[k] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null || m.key === undefined ? null : m.key.toString('utf8'),
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(m.timestamp),
  };
}

export class KafkaSubscription implements Subscription {
  private readonly consumer: Consumer;
  private readonly signal = new StopSignal();
  private readonly pending = new Map<string, PendingCommit>();
  private flushing: Promise<void> | null = null;
  private lastFlush = Date.now();
  /** Consecutive handler failures per partition (drives the backoff). */
  private readonly failures = new Map<string, number>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private joined = false;
  private seeksApplied = false;
  private stopping: Promise<void> | null = null;

  constructor(
    kafka: Kafka,
    private readonly options: SubscribeOptions,
    private readonly mode: DeliveryMode,
    private readonly s: KafkaSubscriptionSettings,
    private readonly onStopped: (sub: KafkaSubscription) => void,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      // A lingering batch consumer asks the broker to hold each fetch until enough bytes or the linger.
      maxWaitTimeInMs: options.batchLingerMs ? Math.max(1, Math.round(options.batchLingerMs)) : s.maxWaitTimeInMs,
      minBytes: options.batchLingerMs ? LINGER_MIN_BYTES : 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    });
  }

  /** Connects, joins the group and resolves once the first assignment is in. */
  async start(): Promise<void> {
    const { consumer } = this;
    let onJoined!: () => void;
    let onFailed!: (e: unknown) => void;
    const firstJoin = new Promise<void>((resolve, reject) => {
      onJoined = resolve;
      onFailed = reject;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.onAssignment(e.payload.memberAssignment);
      this.joined = true;
      onJoined();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!this.joined && !e.payload.restart) onFailed(e.payload.error);
      else if (!e.payload.restart) console.error(`[event-bus] kafka consumer of group ${this.options.groupId} crashed for good: ${e.payload.error.message}`);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.options.topics, fromBeginning: !!this.options.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.s.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(payload),
      });
      // run() returns after the first join; after a failed join kafkajs may still restart and join.
      if (!this.joined) await withTimeout(firstJoin, this.s.joinTimeoutMs, `joining consumer group ${this.options.groupId}`);
    } catch (e) {
      this.signal.raise();
      await consumer.disconnect().catch(() => undefined);
      throw e;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.signal.raise();
    for (const t of this.resumeTimers) clearTimeout(t);
    this.resumeTimers.clear();
    try {
      // Commit finished work while still a group member; an in-flight batch commits its own
      // last record (it sees the raised signal) before consumer.stop() lets the member leave.
      await this.flush().catch((e: Error) => console.warn(`[event-bus] commit on stop failed for group ${this.options.groupId} (records since the last commit will be redelivered): ${e.message}`));
      await this.consumer.stop();
      await this.consumer.disconnect();
    } finally {
      this.onStopped(this);
    }
  }

  /**
   * startOffsets are applied once, to the partitions of the first assignment (kafkajs applies a
   * seek on the next fetch of an assigned partition). Pending commits and failure counts of
   * partitions that went to another member are dropped.
   */
  private onAssignment(assignment: Record<string, number[]>): void {
    const owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => tpKey(t, p))));
    if (!this.seeksApplied) {
      this.seeksApplied = true;
      for (const [topic, parts] of Object.entries(this.options.startOffsets ?? {})) {
        for (const [p, offset] of Object.entries(parts)) {
          if (owned.has(tpKey(topic, Number(p)))) this.consumer.seek({ topic, partition: Number(p), offset: String(offset) });
        }
      }
    }
    for (const k of [...this.pending.keys()]) if (!owned.has(k)) this.pending.delete(k);
    for (const k of [...this.failures.keys()]) if (!owned.has(k)) this.failures.delete(k);
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { topic, partition } = p.batch;
    const key = tpKey(topic, partition);
    const records = p.batch.messages.map((m) => toBusRecord(topic, partition, m));
    const mode = this.mode;
    const chunks: BusRecord[][] = [];
    if (mode.kind === 'batch') {
      for (let i = 0; i < records.length; i += mode.maxBatchSize) chunks.push(records.slice(i, i + mode.maxBatchSize));
    } else {
      for (const r of records) chunks.push([r]);
    }
    for (const chunk of chunks) {
      if (this.signal.stopped || !p.isRunning() || p.isStale()) break;
      try {
        if (mode.kind === 'batch') await mode.batchHandler(chunk);
        else await mode.handler(chunk[0]);
      } catch (error) {
        this.scheduleRedelivery(p, key, chunk, error);
        break;
      }
      this.failures.delete(key);
      const last = chunk[chunk.length - 1].offset;
      p.resolveOffset(last);
      this.pending.set(key, { topic, partition, offset: (BigInt(last) + 1n).toString() });
      if (this.signal.stopped || Date.now() - this.lastFlush >= this.s.commitIntervalMs) await this.flush(p);
      try {
        await p.heartbeat();
      } catch (e) {
        // A rebalance started: commit what is done (best effort) and let kafkajs rejoin.
        await this.flush(p).catch(() => undefined);
        throw e;
      }
    }
    await this.flush(p);
  }

  private scheduleRedelivery(p: EachBatchPayload, key: string, chunk: BusRecord[], error: unknown): void {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const retryInMs = backoffMs(this.s.retryBackoff, attempt);
    try {
      this.s.onHandlerError(error, {
        groupId: this.options.groupId,
        topic: chunk[0].topic,
        partition: chunk[0].partition,
        offset: chunk[0].offset,
        records: chunk.length,
        attempt,
        retryInMs,
      });
    } catch {
      // A throwing listener must not stop redelivery.
    }
    if (this.signal.stopped) return;
    const resume = p.pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (!this.signal.stopped) resume();
    }, retryInMs);
    this.resumeTimers.add(timer);
  }

  /**
   * Commits the pending offsets, one commit at a time. Inside eachBatch it goes through the
   * batch's own commit (which works while kafkajs is stopping, unlike consumer.commitOffsets).
   */
  private async flush(p?: EachBatchPayload): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.lastFlush = Date.now();
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const e of entries) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), { partition: e.partition, offset: e.offset }]);
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    const run = p ? p.commitOffsetsIfNecessary({ topics }) : this.consumer.commitOffsets(entries);
    this.flushing = run;
    try {
      await run;
    } catch (e) {
      // Keep them for the next flush unless newer progress was recorded meanwhile.
      for (const c of entries) {
        const k = tpKey(c.topic, c.partition);
        if (!this.pending.has(k)) this.pending.set(k, c);
      }
      throw e;
    } finally {
      this.flushing = null;
    }
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
