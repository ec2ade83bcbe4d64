/**
 * InProcessEventBus: an embedded, in-memory log with Kafka's semantics, for `npm start` with no
 * servers and for fast tests. Same partitioning as Kafka's default partitioner (murmur2), offsets
 * per partition, consumer groups with committed offsets, partitions shared among the subscribers
 * of a group (rebalanced on subscribe/stop), at-least-once delivery with redelivery after a
 * backoff, replay through fromBeginning/startOffsets. Records live in memory (optionally capped
 * per partition, the oldest dropped first like Kafka retention); nothing survives the process.
 *
 * Delivery never runs inside produce(): a partition worker is woken through a promise, so the
 * handler runs after produce's synchronous part at the earliest.
 */
import {
  backoffMs,
  DEFAULT_PARTITIONS,
  DEFAULT_RETRY_BACKOFF,
  deliveryMode,
  DeliveryMode,
  HandlerErrorListener,
  logHandlerError,
  RetryBackoff,
  StopSignal,
  toBuffer,
  validateProduce,
} from './event-bus.delivery';
import { partitionForKey } from './event-bus.partitioner';
import type { BusRecord, EventBus, ProduceRecord, SubscribeOptions, Subscription, TopicSpec } from './event-bus.port';

export interface InProcessEventBusOptions {
  /** Partitions of a topic created without an explicit count (default 4). */
  defaultPartitions?: number;
  /** Keep at most about this many records per partition (oldest dropped first). Unbounded by default. */
  maxRecordsPerPartition?: number;
  retryBackoff?: RetryBackoff;
  /** Told about every failed handler call before its redelivery (default: a console warning). */
  onHandlerError?: HandlerErrorListener;
}

/** Records per read in record mode: small enough to notice stop() quickly. */
const READ_CHUNK = 256;
/** A worker that never waits (long backlog, instant handler) yields the event loop this often. */
const YIELD_EVERY_MS = 20;

class PartitionLog {
  /** records[i] has offset base + i. */
  private records: BusRecord[] = [];
  base = 0;
  private appended: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get end(): number {
    return this.base + this.records.length;
  }

  append(key: string | null, value: Buffer, headers: Record<string, string>, timestamp: number, cap: number | undefined): void {
    this.records.push({ topic: this.topic, partition: this.partition, offset: String(this.end), key, value, headers, timestamp });
    // Trim in steps (not per record) so retention costs O(1) amortised.
    if (cap !== undefined && this.records.length > cap + Math.max(16, cap >> 3)) {
      const drop = this.records.length - cap;
      this.records.splice(0, drop);
      this.base += drop;
    }
  }

  /** Wakes the workers waiting for records; called once per produce() per touched partition. */
  notify(): void {
    const a = this.appended;
    this.appended = null;
    a?.resolve();
  }

  /** One shared promise per wait round, so waiters that gave up (stop) leave nothing behind. */
  waitForAppend(): Promise<void> {
    if (!this.appended) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.appended = { promise, resolve };
    }
    return this.appended.promise;
  }

  read(from: number, max: number): BusRecord[] {
    const i = from - this.base;
    return this.records.slice(i, i + max);
  }
}

interface TopicLog {
  name: string;
  partitions: PartitionLog[];
  /** Round-robin cursor for records without a key. */
  nextUnkeyed: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Hands a record over: each delivery gets its own record and headers objects (the value bytes are shared). */
const handOver = (r: BusRecord): BusRecord => ({ ...r, headers: { ...r.headers } });

class Group {
  readonly committed = new Map<string, number>();
  readonly members: Member[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly id: string) {}

  /** Membership changes and rebalances run one at a time, in call order. */
  serialize(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

class PartitionWorker {
  private readonly signal = new StopSignal();
  private readonly done: Promise<void>;

  constructor(
    private readonly bus: InProcessEventBus,
    private readonly group: Group,
    private readonly mode: DeliveryMode,
    private readonly log: PartitionLog,
    start: number,
  ) {
    this.done = this.run(start);
  }

  /** Stops fetching, lets an in-flight handler finish (its offset is then committed) and resolves. */
  async stop(): Promise<void> {
    this.signal.raise();
    await this.done;
  }

  private async run(start: number): Promise<void> {
    const { log, mode, signal } = this;
    let pos = start;
    let lastYield = Date.now();
    while (!signal.stopped) {
      if (pos < log.base) pos = log.base; // dropped by retention: continue at the oldest kept
      if (pos >= log.end) {
        await signal.race(log.waitForAppend());
        lastYield = Date.now();
        continue;
      }
      if (mode.kind === 'batch') {
        if (mode.lingerMs > 0) await this.linger(pos, mode.lingerMs, mode.maxBatchSize);
        if (signal.stopped) return;
        const batch = log.read(pos, mode.maxBatchSize);
        if (!(await this.deliver(batch, () => mode.batchHandler(batch.map(handOver))))) return;
        pos = Number(batch[batch.length - 1].offset) + 1;
        this.commit(pos);
      } else {
        for (const record of log.read(pos, READ_CHUNK)) {
          if (signal.stopped) return;
          if (!(await this.deliver([record], () => mode.handler(handOver(record))))) return;
          pos = Number(record.offset) + 1;
          this.commit(pos);
        }
      }
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = Date.now();
      }
    }
  }

  /** Waits until maxBatchSize records are waiting from `pos`, lingerMs have passed, or the worker stops. */
  private async linger(pos: number, lingerMs: number, maxBatchSize: number): Promise<void> {
    const { log, signal } = this;
    let timedOut = false;
    const timeout = signal.sleep(lingerMs).then(() => {
      timedOut = true;
    });
    while (!timedOut && !signal.stopped && log.end - pos < maxBatchSize) await Promise.race([timeout, log.waitForAppend()]);
  }

  private commit(next: number): void {
    this.group.committed.set(tpKey(this.log.topic, this.log.partition), next);
  }

  /** Calls the handler until it resolves (true) or the worker is stopped during a backoff (false). */
  private async deliver(records: BusRecord[], call: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await call();
        return true;
      } catch (error) {
        const retryInMs = backoffMs(this.bus.retryBackoff, attempt);
        this.bus.reportHandlerError(error, {
          groupId: this.group.id,
          topic: this.log.topic,
          partition: this.log.partition,
          offset: records[0].offset,
          records: records.length,
          attempt,
          retryInMs,
        });
        await this.signal.sleep(retryInMs);
        if (this.signal.stopped) return false;
      }
    }
  }
}

class Member implements Subscription {
  readonly workers = new Map<string, PartitionWorker>();
  /** startOffsets, applied only to partitions this member gets in its first assignment. */
  pendingSeeks: Map<string, number> | null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly bus: InProcessEventBus,
    readonly group: Group,
    readonly options: SubscribeOptions,
    readonly mode: DeliveryMode,
  ) {
    const seeks = new Map<string, number>();
    for (const [topic, parts] of Object.entries(options.startOffsets ?? {})) {
      for (const [p, off] of Object.entries(parts)) seeks.set(tpKey(topic, Number(p)), Number(off));
    }
    this.pendingSeeks = seeks;
  }

  stop(): Promise<void> {
    this.stopping ??= this.bus.leave(this);
    return this.stopping;
  }
}

export class InProcessEventBus implements EventBus {
  readonly kind = 'inprocess';
  readonly retryBackoff: RetryBackoff;
  private readonly defaultPartitions: number;
  private readonly maxRecords: number | undefined;
  private readonly onHandlerError: HandlerErrorListener;
  private readonly topics = new Map<string, TopicLog>();
  private readonly groups = new Map<string, Group>();
  private readonly active = new Set<Member>();
  private closed = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? DEFAULT_PARTITIONS;
    if (!Number.isInteger(this.defaultPartitions) || this.defaultPartitions < 1) throw new Error('defaultPartitions must be a positive integer');
    this.maxRecords = options.maxRecordsPerPartition;
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.onHandlerError = options.onHandlerError ?? logHandlerError;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of specs) {
      const count = spec.partitions ?? this.defaultPartitions;
      if (!spec.topic || !Number.isInteger(count) || count < 1) throw new Error(`ensureTopics: bad topic spec ${JSON.stringify(spec)}`);
      const existing = this.topics.get(spec.topic);
      if (!existing) {
        this.topics.set(spec.topic, { name: spec.topic, partitions: this.makePartitions(spec.topic, 0, count), nextUnkeyed: 0 });
      } else if (existing.partitions.length < count) {
        // Like Kafka's createPartitions: partitions are only ever added; groups pick them up.
        existing.partitions.push(...this.makePartitions(spec.topic, existing.partitions.length, count));
        await Promise.all([...this.groups.values()].filter((g) => g.members.some((m) => m.options.topics.includes(spec.topic))).map((g) => g.serialize(() => this.assign(g))));
      }
    }
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    this.assertOpen();
    validateProduce(topic, records);
    const log = this.topic(topic);
    const n = log.partitions.length;
    const touched = new Set<PartitionLog>();
    const now = Date.now();
    for (const r of records) {
      const key = r.key ?? null;
      const p = key === null ? log.nextUnkeyed++ % n : partitionForKey(key, n);
      const part = log.partitions[p];
      // Copies: a producer reusing its buffer or headers object must not rewrite the log.
      part.append(key, Buffer.from(toBuffer(r.value)), { ...(r.headers ?? {}) }, now, this.maxRecords);
      touched.add(part);
    }
    for (const part of touched) part.notify();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const mode = deliveryMode(options);
    for (const t of options.topics) this.topic(t);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = new Group(options.groupId);
      this.groups.set(group.id, group);
    }
    const member = new Member(this, group, { ...options, topics: [...new Set(options.topics)] }, mode);
    const g = group;
    await g.serialize(async () => {
      g.members.push(member);
      await this.assign(g);
    });
    this.active.add(member);
    return member;
  }

  async endOffsets(topic: string): Promise<Record<number, string>> {
    this.assertOpen();
    const out: Record<number, string> = {};
    for (const p of this.topic(topic).partitions) out[p.partition] = String(p.end);
    return out;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.active].map((m) => m.stop()));
    this.closed = true;
  }

  /** @internal Member.stop(): finish in-flight work, commit, leave, and rebalance the rest. */
  leave(member: Member): Promise<void> {
    const group = member.group;
    return group.serialize(async () => {
      const i = group.members.indexOf(member);
      if (i >= 0) group.members.splice(i, 1);
      await Promise.all([...member.workers.values()].map((w) => w.stop()));
      member.workers.clear();
      this.active.delete(member);
      await this.assign(group);
    });
  }

  /** @internal */
  reportHandlerError(error: unknown, failure: Parameters<HandlerErrorListener>[1]): void {
    try {
      this.onHandlerError(error, failure);
    } catch {
      // A throwing listener must not stop redelivery.
    }
  }

  /**
   * Eager rebalance, as Kafka's classic protocol: partitions that move are first stopped (their
   * in-flight handler finishes and is committed), only then started on their new owner, so a
   * partition never has two workers and the new owner continues at the committed offset.
   * Partition p of a topic goes to the (p mod n)-th of the n members subscribed to it, in join order.
   */
  private async assign(group: Group): Promise<void> {
    const desired = new Map<Member, Map<string, PartitionLog>>();
    for (const m of group.members) desired.set(m, new Map());
    const topicNames = [...new Set(group.members.flatMap((m) => m.options.topics))].sort();
    for (const name of topicNames) {
      const subs = group.members.filter((m) => m.options.topics.includes(name));
      for (const part of this.topic(name).partitions) {
        desired.get(subs[part.partition % subs.length])!.set(tpKey(name, part.partition), part);
      }
    }
    const revoked: Promise<void>[] = [];
    for (const m of group.members) {
      for (const [k, w] of m.workers) {
        if (!desired.get(m)!.has(k)) {
          m.workers.delete(k);
          revoked.push(w.stop());
        }
      }
    }
    await Promise.all(revoked);
    for (const m of group.members) {
      for (const [k, part] of desired.get(m)!) {
        if (m.workers.has(k)) continue;
        let start = m.pendingSeeks?.get(k) ?? group.committed.get(k);
        if (start === undefined) start = m.options.fromBeginning ? part.base : part.end;
        start = Math.min(Math.max(start, part.base), part.end);
        m.workers.set(k, new PartitionWorker(this, group, m.mode, part, start));
      }
      m.pendingSeeks = null;
    }
  }

  private makePartitions(topic: string, from: number, to: number): PartitionLog[] {
    const out: PartitionLog[] = [];
    for (let p = from; p < to; p++) out.push(new PartitionLog(topic, p));
    return out;
  }

  private topic(name: string): TopicLog {
    const t = this.topics.get(name);
    if (!t) throw new Error(`unknown topic ${name}: create it with ensureTopics first`);
    return t;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event bus is closed');
  }
}
