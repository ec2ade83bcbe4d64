import { TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import { CatalogChangeRejected, CatalogIndex } from './domain/catalog-index';

/**
 * catalog.items -> the namespace indexes, a fetched batch at a time. Idempotent by offsets
 * (recorded with each snapshot, resumed from on restart) and by construction (an upsert is
 * last-write-wins per item, a delete of a missing id is a no-op), so no event-id ledger round
 * trip sits on this hot path. An upsert that is not a valid embedding of its namespace's declared
 * dimension (or into an undeclared namespace) is dead-lettered with its code; an unforeseen error
 * from the index engine is isolated to its record by the consumer's bisection, retried a few
 * times, then dead-lettered (`handler_error`): it never holds the partition back.
 */
export async function startCatalogConsumer(ctx: AppContext, index: CatalogIndex, groupId: string) {
  // Where to resume: the snapshot's offsets, and the earliest offset for every partition the
  // snapshot has nothing of (no snapshot at all: lost or never written). The group's committed
  // offsets are never trusted alone: they may be ahead of the indexes on disk.
  await ctx.infra.bus.ensureTopics([{ topic: TOPICS.catalogItems }]);
  const resume = index.resumeOffsets()[TOPICS.catalogItems] ?? {};
  const partitions = Object.keys(await ctx.infra.bus.endOffsets(TOPICS.catalogItems)).map(Number);
  const startOffsets = { [TOPICS.catalogItems]: Object.fromEntries(partitions.map((p) => [p, resume[p] ?? '0'])) };
  const sub = await startEventBatchConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.catalogItems,
    groupId,
    fromBeginning: true,
    startOffsets,
    maxBatchSize: 500,
    ...consumerKit(ctx),
    handleBatch: async (events) => {
      const rejected: { index: number; code: string; reason: string }[] = [];
      await index.applyBatch(events.length, (i) => {
        const { event, record } = events[i];
        try {
          index.applyNow(event);
        } catch (e) {
          if (!(e instanceof CatalogChangeRejected)) throw e;
          rejected.push({ index: i, code: e.code, reason: e.message });
        }
        index.recordOffset(record.topic, record.partition, record.offset);
      });
      return { rejected };
    },
  });
  ctx.subscriptions.push(sub);
  return sub;
}
