import type { BusRecord, EventBus, ProduceRecord, StartOffsets, SubscribeOptions, Subscription, TopicSpec } from './event-bus.port';

/**
 * Namespaces every topic of an EventBus with a prefix (several suites, or test runs, on one
 * cluster). Callers keep using logical names: records come back with the prefix stripped.
 */
export class PrefixedEventBus implements EventBus {
  constructor(
    private readonly inner: EventBus,
    private readonly prefix: string,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  private physical(topic: string) {
    return `${this.prefix}${topic}`;
  }

  private logical(record: BusRecord): BusRecord {
    return { ...record, topic: record.topic.startsWith(this.prefix) ? record.topic.slice(this.prefix.length) : record.topic };
  }

  ensureTopics(topics: TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(topics.map((t) => ({ ...t, topic: this.physical(t.topic) })));
  }

  produce(topic: string, records: ProduceRecord[]): Promise<void> {
    return this.inner.produce(this.physical(topic), records);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    const startOffsets: StartOffsets | undefined = options.startOffsets ? Object.fromEntries(Object.entries(options.startOffsets).map(([t, o]) => [this.physical(t), o])) : undefined;
    return this.inner.subscribe({
      ...options,
      groupId: `${this.prefix}${options.groupId}`,
      topics: options.topics.map((t) => this.physical(t)),
      startOffsets,
      handler: options.handler && ((r) => options.handler!(this.logical(r))),
      batchHandler: options.batchHandler && ((rs) => options.batchHandler!(rs.map((r) => this.logical(r)))),
    });
  }

  endOffsets(topic: string) {
    return this.inner.endOffsets(this.physical(topic));
  }

  ping() {
    return this.inner.ping();
  }

  close() {
    return this.inner.close();
  }
}
