import { TOPICS } from '../../../libs/contracts/src';
import { PermanentEventError, startEventConsumer } from '../../../libs/messaging/src';
import { consumerMetrics, type AppContext } from '../../../libs/platform/src';
import { CatalogChangeRejected, CatalogIndex } from './domain/catalog-index';

/**
 * catalog.items -> the namespace indexes. Idempotent by offsets (recorded with each snapshot)
 * and by construction (an upsert is last-write-wins per item, a delete of a missing id is a no-op),
 * so no event-id ledger is needed on this hot path.
 */
export async function startCatalogConsumer(ctx: AppContext, index: CatalogIndex, groupId: string) {
  const sub = await startEventConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.catalogItems,
    groupId,
    fromBeginning: true,
    startOffsets: index.resumeOffsets(),
    hooks: consumerMetrics(ctx.metrics),
    handle: async (event, { record }) => {
      try {
        await index.apply(event, { topic: record.topic, partition: record.partition, offset: record.offset });
      } catch (e) {
        if (e instanceof CatalogChangeRejected) {
          index.recordOffset(record.topic, record.partition, record.offset);
          throw new PermanentEventError(e.code, e.message);
        }
        throw e;
      }
    },
  });
  ctx.subscriptions.push(sub);
  return sub;
}
