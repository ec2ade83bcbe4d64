import { TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import type { FeedbackLearner } from './domain/feedback-learner';

/**
 * feed.impressions and feed.feedback -> the feedback learner (join by requestId, idempotent by
 * event id, either order). Schema-invalid records go to `<topic>.dlq` (validated consumer);
 * schema-valid but unusable impressions (an item or a position twice) too, code `malformed_impression`.
 */
export async function startSlatesConsumers(ctx: AppContext, learner: FeedbackLearner) {
  const kit = consumerKit(ctx);
  ctx.subscriptions.push(
    await startEventBatchConsumer({
      ...kit,
      bus: ctx.infra.bus,
      topic: TOPICS.feedImpressions,
      groupId: 'slates-impressions',
      maxBatchSize: 2000,
      handleBatch: async (events) => ({ rejected: await learner.applyImpressions(events.map((x) => x.event)) }),
    }),
  );
  ctx.subscriptions.push(
    await startEventBatchConsumer({
      ...kit,
      bus: ctx.infra.bus,
      topic: TOPICS.feedFeedback,
      groupId: 'slates-feedback',
      maxBatchSize: 2000,
      handleBatch: async (events) => ({ rejected: await learner.applyFeedback(events.map((x) => x.event)) }),
    }),
  );
}
