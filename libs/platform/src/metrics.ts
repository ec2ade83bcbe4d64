import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { ConsumerTracker, StateStoreDeadLetterLedger, type ConsumerHooks, type PartitionStatus } from '@recsys/messaging';
import type { AppContext } from './app-context';

export function createRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Request count and latency by route template (not raw URL, to keep label cardinality bounded). */
export function httpMetricsMiddleware(registry: Registry) {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

const hooksByRegistry = new WeakMap<Registry, ConsumerMetricHooks>();

export type ConsumerMetricHooks = Required<
  Pick<ConsumerHooks, 'onApplied' | 'onDuplicate' | 'onDeadLetter' | 'onDeadLetterSkipped' | 'onStarted' | 'onStopped' | 'onProgress' | 'onRetry' | 'onDeadLetterPartition'>
> & {
  tracker: ConsumerTracker;
};

/**
 * The hooks every consumer of an app reports through (startEventConsumer / startEventBatchConsumer
 * `hooks`), one set per registry: counters of applied, duplicate, dead-lettered and retried
 * records, and per group and partition the lag, the time since the last progress and the
 * consecutive failures (gauges read from the ConsumerTracker at scrape time).
 */
export function consumerMetrics(registry: Registry): ConsumerMetricHooks {
  let hooks = hooksByRegistry.get(registry);
  if (!hooks) hooksByRegistry.set(registry, (hooks = createConsumerMetrics(registry)));
  return hooks;
}

/** The tracker behind an app's consumer metrics (readiness reads it). */
export function consumerTracker(registry: Registry): ConsumerTracker {
  return consumerMetrics(registry).tracker;
}

/**
 * What a consumer of an app should be started with: its metric hooks and the DLQ dedupe ledger in
 * the app's state store (so a bad record is dead-lettered once per scope across restarts):
 * `startEventBatchConsumer({ ...consumerKit(ctx), bus, topic, groupId, ... })`.
 */
export function consumerKit(ctx: Pick<AppContext, 'metrics' | 'infra'>): { hooks: ConsumerMetricHooks; deadLetters: StateStoreDeadLetterLedger } {
  return { hooks: consumerMetrics(ctx.metrics), deadLetters: new StateStoreDeadLetterLedger(ctx.infra.state) };
}

function createConsumerMetrics(registry: Registry): ConsumerMetricHooks {
  const tracker = new ConsumerTracker();
  const applied = new Counter({ name: 'events_applied_total', help: 'events applied', labelNames: ['topic'], registers: [registry] });
  const duplicates = new Counter({ name: 'events_duplicate_total', help: 'events skipped as already applied', labelNames: ['topic'], registers: [registry] });
  const dead = new Counter({ name: 'events_dead_lettered_total', help: 'events sent to the DLQ', labelNames: ['topic', 'code'], registers: [registry] });
  const deadByGroup = new Counter({
    name: 'consumer_dead_letters_total',
    help: 'records dead-lettered, by consumer group and code',
    labelNames: ['group', 'topic', 'code'],
    registers: [registry],
  });
  const deadSkipped = new Counter({
    name: 'consumer_dead_letters_deduplicated_total',
    help: 'bad records seen again (redelivery, restart, another replica of the scope) and not dead-lettered twice',
    labelNames: ['group', 'topic'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'consumer_retries_total',
    help: 'failed attempts that will be retried (kind: transient = dependency down, unknown = retried up to maxAttempts)',
    labelNames: ['group', 'topic', 'kind'],
    registers: [registry],
  });
  const labels = ['group', 'topic', 'partition'];
  const gauge = (name: string, help: string, value: (s: PartitionStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      async collect() {
        await tracker.refresh();
        this.reset();
        for (const st of tracker.statuses()) this.set({ group: st.group, topic: st.topic, partition: String(st.partition) }, value(st));
      },
    });
  gauge('consumer_lag', 'records between the log end and the next record the group will apply', (s) => s.lag);
  gauge('consumer_seconds_since_progress', 'seconds since the partition last moved forward (or since it fell behind)', (s) => s.sinceProgressMs / 1000);
  gauge('consumer_partition_failures', 'consecutive failed attempts of the record the partition is paused on (0 = healthy)', (s) => s.failures);
  gauge('consumer_partition_dead_letters', 'records this process dead-lettered from the partition', (s) => s.deadLettered);
  return {
    tracker,
    onApplied: (topic: string) => applied.inc({ topic }),
    onDuplicate: (topic: string) => duplicates.inc({ topic }),
    onDeadLetter: (topic: string, code: string, _reason: string, group?: string) => {
      dead.inc({ topic, code });
      deadByGroup.inc({ group: group ?? '', topic, code });
    },
    onDeadLetterSkipped: (topic: string, group: string) => deadSkipped.inc({ group, topic }),
    onStarted: (group: string, topic: string, bus: EventBus) => tracker.started(group, topic, bus),
    onStopped: (group: string, topic: string) => tracker.stopped(group, topic),
    onProgress: (group: string, topic: string, partition: number, lastOffset: string) => tracker.progressed(group, topic, partition, lastOffset),
    onRetry: (group: string, topic: string, partition: number, offset: string, _attempt: number, kind: string, error: string) => {
      retries.inc({ group, topic, kind });
      tracker.failed(group, topic, partition, offset, error);
    },
    onDeadLetterPartition: (group: string, topic: string, partition: number) => tracker.deadLettered(group, topic, partition),
  };
}
