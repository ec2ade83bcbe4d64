import { embeddingProblem, TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import { namespaceDims } from '@recsys/platform/namespaces';
import { itemAttributes, type ItemFeatureTable } from '@recsys/ranking';

/**
 * catalog.items (namespace `items`) -> the in-memory item feature table. Every replica has its own
 * consumer group and reads the topic from the beginning, so each holds the whole catalog.
 * Idempotent by construction (last write per item wins, a delete of a missing item is a no-op).
 * An embedding that is not valid for the declared `items` dimension is dead-lettered, once for
 * all replicas: the DLQ dedupe scope is `ranking-items`, not the per-replica group (whose name
 * holds the replica id, by default hostname-pid, new at every restart).
 *
 * `caughtUp` resolves once everything that was in the topic when the consumer started has been
 * applied: until then the health check reports the catalog as loading (items would get defaults).
 */
export const RANKING_ITEMS_DLQ_SCOPE = 'ranking-items';

export async function startCatalogConsumer(ctx: AppContext, table: ItemFeatureTable, groupId: string, onApplied: () => void) {
  const bus = ctx.infra.bus;
  const itemsDim = namespaceDims(ctx.config).items ?? ctx.config.EMBEDDING_DIM;
  const target = await bus.endOffsets(TOPICS.catalogItems);
  const applied = new Map<number, bigint>();
  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  const check = () => {
    for (const [p, end] of Object.entries(target)) {
      if (BigInt(end) > 0n && (applied.get(Number(p)) ?? -1n) < BigInt(end) - 1n) return;
    }
    resolveCaughtUp();
  };
  check();
  const sub = await startEventBatchConsumer({
    bus,
    topic: TOPICS.catalogItems,
    groupId,
    fromBeginning: true,
    maxBatchSize: 1000,
    ...consumerKit(ctx),
    dlqScope: RANKING_ITEMS_DLQ_SCOPE,
    handleBatch: async (events) => {
      const rejected: { index: number; code: string; reason: string }[] = [];
      events.forEach(({ event: e }, i) => {
        if (e.namespace !== 'items') return;
        if (e.op === 'delete') {
          table.delete(e.itemId);
          return;
        }
        const problem = embeddingProblem(e.embedding!, itemsDim);
        if (problem) {
          rejected.push({ index: i, code: problem.code, reason: problem.message });
          return;
        }
        try {
          table.upsert({ itemId: e.itemId, embedding: e.embedding!, ...itemAttributes(e.attributes) });
        } catch (err) {
          rejected.push({ index: i, code: 'dimension_mismatch', reason: (err as Error).message });
        }
      });
      // A batch is one partition, in offset order: its last record is the highest offset applied.
      const last = events[events.length - 1].record;
      applied.set(last.partition, BigInt(last.offset));
      onApplied();
      check();
      return { rejected };
    },
  });
  ctx.subscriptions.push(sub);
  return { subscription: sub, caughtUp };
}
