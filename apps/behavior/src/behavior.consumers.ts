import { TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerMetrics, type AppContext } from '@recsys/platform';
import type { BehaviorRepository } from './domain/behavior.repository';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** catalog.items (namespace `items`) -> item embeddings the behaviour side hashes. */
export async function startItemConsumer(ctx: AppContext, repo: BehaviorRepository) {
  const sub = await startEventBatchConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.catalogItems,
    groupId: 'behavior-catalog',
    maxBatchSize: 500,
    hooks: consumerMetrics(ctx.metrics),
    handleBatch: async (events) => {
      const rejected: { index: number; code: string; reason: string }[] = [];
      const upserts: { i: number; item: { itemId: string; embedding: number[]; group?: string; updatedAt: number } }[] = [];
      for (let i = 0; i < events.length; i++) {
        const e = events[i].event;
        if (e.namespace !== 'items') continue;
        if (e.op === 'delete') {
          // Flush pending upserts first so the order per item is kept.
          await flush();
          await repo.deleteItem(e.itemId, e.timestamp);
        } else upserts.push({ i, item: { itemId: e.itemId, embedding: e.embedding!, group: e.group, updatedAt: e.timestamp } });
      }
      await flush();
      return { rejected };

      async function flush() {
        if (upserts.length === 0) return;
        const batch = upserts.splice(0);
        const results = await repo.upsertItems(batch.map((u) => u.item));
        results.forEach((r, j) => {
          if (r.status === 'rejected') rejected.push({ index: batch[j].i, code: 'item_rejected', reason: r.reason ?? 'rejected' });
        });
      }
    },
  });
  ctx.subscriptions.push(sub);
}

/**
 * user.behaviors -> history, SDIM tables and user embedding. The repository is idempotent by
 * event id (ids live in the history), so a redelivered batch changes nothing. A behaviour for an
 * item the catalog has not delivered yet waits (the catalog consumer runs concurrently) for up
 * to `unknownItemWaitMs`, then goes to the DLQ with code `unknown_item`; the partition moves on.
 */
export async function startBehaviorConsumer(ctx: AppContext, repo: BehaviorRepository, unknownItemWaitMs: number) {
  const sub = await startEventBatchConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.userBehaviors,
    groupId: 'behavior',
    // Up to what one fetch of a partition returned: a user's events of a batch cost one read and
    // one write of its state, so larger batches coalesce more (bench/results/sdim.json: a Zipf
    // stream takes ~30% less CPU per event than with batches of 1,000), at the price of a longer
    // time between a behaviour and its effect (a batch of 5,000 is applied in under a second).
    maxBatchSize: 5000,
    hooks: consumerMetrics(ctx.metrics),
    handleBatch: async (events) => {
      const inputs = events.map((x) => x.event);
      let result = await repo.applyBehaviors(inputs);
      const rejected: { index: number; code: string; reason: string }[] = result.rejected.map((r) => ({ index: r.index, code: r.code, reason: r.reason }));
      let pending = result.unknownItems.map((u) => u.index);
      const deadline = Date.now() + unknownItemWaitMs;
      let delay = 50;
      while (pending.length > 0 && Date.now() < deadline) {
        await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
        delay = Math.min(delay * 2, 1000);
        result = await repo.applyBehaviors(pending.map((i) => inputs[i]));
        rejected.push(...result.rejected.map((r) => ({ index: pending[r.index], code: r.code, reason: r.reason })));
        pending = result.unknownItems.map((u) => pending[u.index]);
      }
      for (const i of pending) {
        rejected.push({ index: i, code: 'unknown_item', reason: `item '${inputs[i].itemId}' is not in the catalog (waited ${unknownItemWaitMs} ms)` });
      }
      return { rejected };
    },
  });
  ctx.subscriptions.push(sub);
}
