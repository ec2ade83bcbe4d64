import type { EventBus } from '@recsys/infra/event-bus/event-bus.port';

/** What a consumer reports about its partitions; the platform turns it into metrics and readiness. */
export interface PartitionStatus {
  group: string;
  topic: string;
  partition: number;
  /** Next offset this consumer will apply (last applied + 1, or the failing record's offset); null before any record. */
  position: string | null;
  /** Log end offset at the last lag refresh; null when unknown. */
  endOffset: string | null;
  /** end - position (0 while nothing was seen and nothing can be known). */
  lag: number;
  /** ms since the partition last moved forward (or since the consumer started). */
  sinceProgressMs: number;
  /** Consecutive failed attempts of the current record (0 when healthy). */
  failures: number;
  lastError: string | null;
  deadLettered: number;
}

interface PartitionState {
  position: bigint | null;
  end: bigint | null;
  lastProgressAt: number;
  failures: number;
  lastError: string | null;
  deadLettered: number;
  /** When lag was first seen after being caught up (an idle partition that gets new records is not stuck at once). */
  behindSince: number | null;
}

interface ConsumerEntry {
  group: string;
  topic: string;
  bus: EventBus;
  startedAt: number;
  partitions: Map<number, PartitionState>;
  lastRefresh: number;
  stopped: boolean;
}

/**
 * Per consumer group and partition: position, lag, time since the last progress, consecutive
 * failures and dead letters. Consumers report through ConsumerHooks; lag is refreshed from the
 * log end offsets at most every `refreshMs`.
 */
export class ConsumerTracker {
  private readonly consumers = new Map<string, ConsumerEntry>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 1000,
  ) {}

  private entry(group: string, topic: string): ConsumerEntry | undefined {
    return this.consumers.get(`${group}\u0000${topic}`);
  }

  private part(group: string, topic: string, partition: number): PartitionState | undefined {
    const e = this.entry(group, topic);
    if (!e) return undefined;
    let p = e.partitions.get(partition);
    if (!p) e.partitions.set(partition, (p = { position: null, end: null, lastProgressAt: this.now(), failures: 0, lastError: null, deadLettered: 0, behindSince: null }));
    return p;
  }

  started(group: string, topic: string, bus: EventBus): void {
    this.consumers.set(`${group}\u0000${topic}`, { group, topic, bus, startedAt: this.now(), partitions: new Map(), lastRefresh: 0, stopped: false });
  }

  stopped(group: string, topic: string): void {
    const e = this.entry(group, topic);
    if (e) this.consumers.delete(`${group}\u0000${topic}`);
  }

  progressed(group: string, topic: string, partition: number, lastOffset: string): void {
    const p = this.part(group, topic, partition);
    if (!p) return;
    const next = BigInt(lastOffset) + 1n;
    if (p.position === null || next > p.position) p.position = next;
    if (p.end !== null && p.end < next) p.end = next;
    p.lastProgressAt = this.now();
    p.failures = 0;
    p.lastError = null;
  }

  failed(group: string, topic: string, partition: number, offset: string, error: string): void {
    const p = this.part(group, topic, partition);
    if (!p) return;
    const at = BigInt(offset);
    if (p.position === null || at > p.position) p.position = at;
    p.failures++;
    p.lastError = error.slice(0, 500);
  }

  deadLettered(group: string, topic: string, partition: number): void {
    const p = this.part(group, topic, partition);
    if (p) p.deadLettered++;
  }

  /** Refreshes end offsets (at most every refreshMs per consumer; failures keep the last value). */
  async refresh(): Promise<void> {
    const now = this.now();
    await Promise.all(
      [...this.consumers.values()]
        .filter((e) => now - e.lastRefresh >= this.refreshMs)
        .map(async (e) => {
          e.lastRefresh = now;
          try {
            const ends = await e.bus.endOffsets(e.topic);
            for (const [p, end] of Object.entries(ends)) {
              const st = this.part(e.group, e.topic, Number(p))!;
              st.end = BigInt(end);
              const behind = st.position !== null && st.end > st.position;
              if (!behind) st.behindSince = null;
              else st.behindSince ??= now;
            }
          } catch {
            /* the bus is down: readiness reports it through its ping */
          }
        }),
    );
  }

  statuses(): PartitionStatus[] {
    const now = this.now();
    const out: PartitionStatus[] = [];
    for (const e of this.consumers.values()) {
      for (const [partition, p] of [...e.partitions.entries()].sort((a, b) => a[0] - b[0])) {
        const lag = p.end !== null && p.position !== null ? Number(p.end > p.position ? p.end - p.position : 0n) : 0;
        out.push({
          group: e.group,
          topic: e.topic,
          partition,
          position: p.position === null ? null : p.position.toString(),
          endOffset: p.end === null ? null : p.end.toString(),
          lag,
          sinceProgressMs: now - Math.max(p.lastProgressAt, p.behindSince ?? 0),
          failures: p.failures,
          lastError: p.lastError,
          deadLettered: p.deadLettered,
        });
      }
    }
    return out;
  }

  /**
   * Partitions stuck for longer than `afterMs`: failing (the same record keeps failing), or behind
   * the log end without moving. A partition that has seen no record is not known to be behind.
   */
  stuck(afterMs: number): PartitionStatus[] {
    return this.statuses().filter((s) => s.sinceProgressMs > afterMs && (s.failures > 0 || s.lag > 0));
  }
}
