import type { BusRecord, EventBus } from '@recsys/infra/event-bus/event-bus.port';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { dlqTopic } from '@recsys/contracts';

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

export type DeadLetterClaim = 'new' | 'pending' | 'done';

/**
 * Which source records (scope, topic, partition, offset) were dead-lettered already, so that a
 * bad record gets exactly one DLQ record per scope (a consumer group, or a stable name shared by
 * replicas that each read everything) across redeliveries, rebalances and restarts.
 *
 * Protocol per bad record: claim() before producing ('new': go on; 'done': skip, it is in the
 * DLQ; 'pending': an earlier attempt claimed it but did not confirm, e.g. the process died in the
 * milliseconds between claim and produce: produce again, so a record is never lost), produce,
 * done(). A failed produce releases the claim. So the only duplicate possible is a crash between
 * an acknowledged produce and done(); the DLQ's source headers identify it.
 */
export interface DeadLetterLedger {
  claim(scope: string, record: BusRecord): Promise<DeadLetterClaim>;
  done(scope: string, record: BusRecord): Promise<void>;
  release(scope: string, record: BusRecord): Promise<void>;
}

const ledgerKey = (scope: string, r: { topic: string; partition: number; offset: string }) => `dlq:${scope}:${r.topic}:${r.partition}:${r.offset}`;

/** The ledger in the state store (Redis or memory): one small key per dead-lettered record, 30-day TTL. */
export class StateStoreDeadLetterLedger implements DeadLetterLedger {
  constructor(
    private readonly store: StateStore,
    private readonly ttlMs = 30 * 24 * 3600 * 1000,
  ) {}

  static key = ledgerKey;

  async claim(scope: string, record: BusRecord): Promise<DeadLetterClaim> {
    const key = ledgerKey(scope, record);
    if (await this.store.set(key, 'pending', { ifAbsent: true, ttlMs: this.ttlMs })) return 'new';
    const v = (await this.store.get(key))?.toString();
    return v === 'done' ? 'done' : 'pending';
  }

  async done(scope: string, record: BusRecord): Promise<void> {
    await this.store.set(ledgerKey(scope, record), 'done', { ttlMs: this.ttlMs });
  }

  async release(scope: string, record: BusRecord): Promise<void> {
    await this.store.del(ledgerKey(scope, record));
  }

  /** Marks a source record as dead-lettered (used when the ledger is rebuilt from the DLQ topic). */
  async markDone(scope: string, source: { topic: string; partition: number; offset: string }): Promise<void> {
    await this.store.set(ledgerKey(scope, source), 'done', { ttlMs: this.ttlMs });
  }
}

/** In-process ledger: dedupes redeliveries within one process (the default when no ledger is given). */
export class MemoryDeadLetterLedger implements DeadLetterLedger {
  private readonly state = new Map<string, DeadLetterClaim>();
  async claim(scope: string, record: BusRecord): Promise<DeadLetterClaim> {
    const k = ledgerKey(scope, record);
    const s = this.state.get(k);
    if (!s) {
      this.state.set(k, 'pending');
      return 'new';
    }
    return s;
  }
  async done(scope: string, record: BusRecord): Promise<void> {
    this.state.set(ledgerKey(scope, record), 'done');
  }
  async release(scope: string, record: BusRecord): Promise<void> {
    this.state.delete(ledgerKey(scope, record));
  }
}

export function dlqRecord(record: BusRecord, scope: string, code: string, reason: string) {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.code]: code,
      [DLQ_HEADERS.reason]: reason.slice(0, 4000),
      [DLQ_HEADERS.sourceTopic]: record.topic,
      [DLQ_HEADERS.sourcePartition]: String(record.partition),
      [DLQ_HEADERS.sourceOffset]: record.offset,
      [DLQ_HEADERS.consumerGroup]: scope,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    },
  };
}

/** Produces one dead letter without dedupe (kept for callers outside a consumer). */
export async function sendToDeadLetter(bus: EventBus, record: BusRecord, groupId: string, code: string, reason: string) {
  await bus.produce(dlqTopic(record.topic), [dlqRecord(record, groupId, code, reason)]);
}

/**
 * Dead-letters through the ledger: returns true when a DLQ record was produced, false when the
 * ledger says this scope already dead-lettered the record.
 */
export async function deadLetterOnce(bus: EventBus, ledger: DeadLetterLedger, scope: string, record: BusRecord, code: string, reason: string): Promise<boolean> {
  const claim = await ledger.claim(scope, record);
  if (claim === 'done') return false;
  try {
    await bus.produce(dlqTopic(record.topic), [dlqRecord(record, scope, code, reason)]);
  } catch (e) {
    if (claim === 'new') await ledger.release(scope, record).catch(() => undefined);
    throw e;
  }
  await ledger.done(scope, record);
  return true;
}

/**
 * Rebuilds a lost ledger from the DLQ topic itself (the DLQ is the record of what was
 * dead-lettered): every dead letter of `scope` from `sourceTopic` is marked done. Reads the DLQ
 * from its first retained offset up to its end at call time, through a one-off group.
 */
export async function restoreDeadLetterLedger(
  bus: EventBus,
  ledger: StateStoreDeadLetterLedger,
  sourceTopic: string,
  scope: string,
  opts: { timeoutMs?: number; groupSuffix?: string } = {},
): Promise<number> {
  const topic = dlqTopic(sourceTopic);
  await bus.ensureTopics([{ topic }]);
  const end = await bus.endOffsets(topic);
  const goal = Object.entries(end).filter(([, o]) => BigInt(o) > 0n);
  if (goal.length === 0) return 0;
  const seen = new Map<number, bigint>();
  let restored = 0;
  let wake: (() => void) | undefined;
  const reached = () => goal.every(([p, o]) => (seen.get(Number(p)) ?? -1n) >= BigInt(o) - 1n);
  const sub = await bus.subscribe({
    groupId: `${scope}.dlq-restore.${opts.groupSuffix ?? Date.now().toString(36)}`,
    topics: [topic],
    fromBeginning: true,
    startOffsets: { [topic]: Object.fromEntries(goal.map(([p]) => [Number(p), '0'])) },
    handler: async (r) => {
      const h = r.headers;
      if (h[DLQ_HEADERS.consumerGroup] === scope && h[DLQ_HEADERS.sourceTopic] === sourceTopic && h[DLQ_HEADERS.sourceOffset] !== undefined) {
        await ledger.markDone(scope, { topic: sourceTopic, partition: Number(h[DLQ_HEADERS.sourcePartition]), offset: h[DLQ_HEADERS.sourceOffset] });
        restored++;
      }
      seen.set(r.partition, BigInt(r.offset));
      if (reached()) wake?.();
    },
  });
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    while (!reached()) {
      if (Date.now() > deadline) throw new Error(`restoring the dead-letter ledger of ${scope} from ${topic} timed out`);
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
    }
  } finally {
    await sub.stop();
  }
  return restored;
}
