/**
 * KafkaEventBus: the EventBus port on Apache Kafka through kafkajs.
 *
 * - Topics are created through the admin API (idempotent; partitions are only ever added).
 * - produce(): acks=all, idempotent producer with one request in flight (so a retry neither
 *   duplicates nor reorders), keyed records partitioned by kafkajs' DefaultPartitioner (murmur2,
 *   the Java client's choice, and the embedded log's: same key, same partition number).
 * - subscribe(): one kafkajs consumer per subscription; see event-bus.kafka.subscription.ts for
 *   commits, redelivery and startOffsets.
 * Clients connect lazily, so constructing the bus does no I/O.
 */
import { Admin, Kafka, KafkaJSAggregateError, logCreator, logLevel as KafkaLogLevel, Partitioners, Producer } from 'kafkajs';
import { DEFAULT_PARTITIONS, DEFAULT_RETRY_BACKOFF, deliveryMode, HandlerErrorListener, logHandlerError, RetryBackoff, toBuffer, validateProduce } from './event-bus.delivery';
import { KafkaSubscription, KafkaSubscriptionSettings, withTimeout } from './event-bus.kafka.subscription';
import type { EventBus, ProduceRecord, SubscribeOptions, Subscription, TopicSpec } from './event-bus.port';

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId: string;
  /** kafkajs log level (default ERROR: rebalances are routine and logged by kafkajs at WARN). */
  logLevel?: KafkaLogLevel;
  /** kafkajs log sink (default: console, without the transient protocol errors kafkajs retries itself). */
  logCreator?: logCreator;
  /** Partitions of a topic that ensureTopics creates without an explicit count (default 4). */
  defaultPartitions?: number;
  /** Replication factor of created topics (default -1: the broker's default.replication.factor). */
  replicationFactor?: number;
  retryBackoff?: RetryBackoff;
  onHandlerError?: HandlerErrorListener;
  /** Commit at least this often while working through a long batch (default 1000 ms). */
  commitIntervalMs?: number;
  /** Partitions one subscription handles at the same time (default 1, kafkajs' default). */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxWaitTimeInMs?: number;
  /** How long subscribe() waits for its first partition assignment (default 60 s). */
  joinTimeoutMs?: number;
  /** ping() gives up after this long (default 3 s). */
  pingTimeoutMs?: number;
}

/** Produce requests are split so that no partition's record batch nears the broker's 1 MiB limit. */
const MAX_SEND_BYTES = 512 * 1024;
const MAX_SEND_RECORDS = 5_000;

/**
 * Connecting (every client's broker pool uses the client-level budget) and admin calls give up
 * after about 2.5 s; a failed connect is retried on the next call. Produce requests retry longer.
 */
const connectRetry = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 };
const produceRetry = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 };

/**
 * Protocol errors that kafkajs logs at ERROR for every response although it retries them (or we
 * do): a topic just created, a leader moving, a group rebalancing or its coordinator loading.
 */
const TRANSIENT_RESPONSE_ERROR =
  /does not host this topic-partition|not the leader for that topic-partition|no leader for this topic-partition|group is rebalancing|coordinator is loading|coordinator is not available|not the correct coordinator/;

const quietConsoleLogCreator: logCreator =
  () =>
  ({ namespace, level, label, log }) => {
    const { message, timestamp, ...extra } = log;
    if (namespace === 'Connection' && message.startsWith('Response ') && TRANSIENT_RESPONSE_ERROR.test(String(extra.error))) return;
    const line = `${timestamp} kafkajs ${label} [${namespace}] ${message} ${JSON.stringify(extra)}`;
    if (level <= KafkaLogLevel.ERROR) console.error(line);
    else if (level === KafkaLogLevel.WARN) console.warn(line);
    else console.log(line);
  };

export class KafkaEventBus implements EventBus {
  readonly kind = 'kafka';
  private readonly kafka: Kafka;
  private readonly defaultPartitions: number;
  private readonly replicationFactor: number;
  private readonly pingTimeoutMs: number;
  private readonly settings: KafkaSubscriptionSettings;
  private adminP: Promise<Admin> | null = null;
  private producerP: Promise<Producer> | null = null;
  /** Every client ever created, so close() can disconnect one that is still connecting. */
  private readonly clients = new Set<Admin | Producer>();
  private readonly subs = new Set<KafkaSubscription>();
  private closed = false;

  constructor(options: KafkaEventBusOptions) {
    if (!options.brokers?.length) throw new Error('KafkaEventBus: brokers are required');
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: options.logLevel ?? KafkaLogLevel.ERROR,
      logCreator: options.logCreator ?? quietConsoleLogCreator,
      connectionTimeout: 3_000,
      retry: connectRetry,
    });
    this.defaultPartitions = options.defaultPartitions ?? DEFAULT_PARTITIONS;
    this.replicationFactor = options.replicationFactor ?? -1;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3_000;
    this.settings = {
      // Short heartbeats and fetch waits: a group notices a joining member within ~0.5 s.
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 30_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
      commitIntervalMs: options.commitIntervalMs ?? 1_000,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      joinTimeoutMs: options.joinTimeoutMs ?? 60_000,
      retryBackoff: options.retryBackoff ?? DEFAULT_RETRY_BACKOFF,
      onHandlerError: options.onHandlerError ?? logHandlerError,
    };
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen();
    if (specs.length === 0) return;
    const wanted = new Map<string, number>();
    for (const s of specs) {
      const n = s.partitions ?? this.defaultPartitions;
      if (!s.topic || !Number.isInteger(n) || n < 1) throw new Error(`ensureTopics: bad topic spec ${JSON.stringify(s)}`);
      wanted.set(s.topic, Math.max(n, wanted.get(s.topic) ?? 0));
    }
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const missing = [...wanted].filter(([t]) => !existing.has(t));
    if (missing.length) {
      try {
        // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker
        // answers for a moment after creating a topic: waitForLeaders() below retries it.
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: this.replicationFactor })),
        });
      } catch (e) {
        // Another client created some of them in the meantime: fine.
        if (!(e instanceof KafkaJSAggregateError && e.errors.every((x) => (x as { type?: string }).type === 'TOPIC_ALREADY_EXISTS'))) throw e;
      }
    }
    if (missing.length)
      await waitForLeaders(
        admin,
        missing.map(([t]) => t),
      );
    const present = [...wanted.keys()].filter((t) => existing.has(t));
    if (present.length) {
      const meta = await admin.fetchTopicMetadata({ topics: present });
      const grow = meta.topics.filter((t) => t.partitions.length < wanted.get(t.name)!).map((t) => ({ topic: t.name, count: wanted.get(t.name)! }));
      if (grow.length) {
        await admin.createPartitions({ topicPartitions: grow });
        await waitForLeaders(
          admin,
          grow.map((g) => g.topic),
        );
      }
    }
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    this.assertOpen();
    validateProduce(topic, records);
    if (records.length === 0) return;
    const producer = await this.producer();
    let messages: { key: string | null; value: Buffer; headers?: Record<string, string> }[] = [];
    let bytes = 0;
    const send = async () => {
      await producer.send({ topic, acks: -1, messages });
      messages = [];
      bytes = 0;
    };
    for (const r of records) {
      const value = toBuffer(r.value);
      messages.push({ key: r.key ?? null, value, headers: r.headers });
      bytes += value.length + 64;
      if (bytes >= MAX_SEND_BYTES || messages.length >= MAX_SEND_RECORDS) await send();
    }
    if (messages.length) await send();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const mode = deliveryMode(options);
    const sub = new KafkaSubscription(this.kafka, { ...options, topics: [...new Set(options.topics)] }, mode, this.settings, (s) => this.subs.delete(s));
    this.subs.add(sub);
    try {
      await sub.start();
    } catch (e) {
      this.subs.delete(sub);
      throw e;
    }
    return sub;
  }

  async endOffsets(topic: string): Promise<Record<number, string>> {
    this.assertOpen();
    const admin = await this.admin();
    const out: Record<number, string> = {};
    // Right after a topic or partition was added, a broker may still answer NOT_LEADER: retried.
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    for (const p of offsets) out[p.partition] = p.high;
    return out;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await withTimeout(
      this.admin().then((a) => a.describeCluster()),
      this.pingTimeoutMs,
      'waiting for the Kafka cluster to answer',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subs].map((s) => s.stop()));
    await Promise.allSettled([...this.clients].map((c) => c.disconnect()));
  }

  private admin(): Promise<Admin> {
    this.adminP ??= this.connect(this.kafka.admin({ retry: connectRetry }), () => (this.adminP = null));
    return this.adminP;
  }

  private producer(): Promise<Producer> {
    this.producerP ??= this.connect(
      this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: produceRetry,
      }),
      () => (this.producerP = null),
    );
    return this.producerP;
  }

  /** Connects a client; a failed connect is forgotten so that the next call tries again. */
  private async connect<C extends Admin | Producer>(client: C, reset: () => void): Promise<C> {
    this.clients.add(client);
    try {
      await client.connect();
      return client;
    } catch (e) {
      reset();
      this.clients.delete(client);
      await client.disconnect().catch(() => undefined);
      throw e;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event bus is closed');
  }
}

/** Retries a call that fails with an error kafkajs marks retriable, for up to `timeoutMs`. */
async function retryRetriable<T>(call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await call();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Waits until every partition of the topics has a leader (metadata errors meanwhile are expected). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.length === topics.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for leaders of ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
