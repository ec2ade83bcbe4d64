import { embeddingProblem, TOPICS } from '@recsys/contracts';
import type { Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { startEventBatchConsumer, type StateGeneration } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import type { BehaviorRepository } from './domain/behavior.repository';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** DLQ scopes: stable across state generations, so a replay after a state loss dead-letters nothing twice. */
export const ITEM_DLQ_SCOPE = 'behavior-catalog';
export const BEHAVIOR_DLQ_SCOPE = 'behavior';

export interface StateConsumerOptions {
  /** The state generation the consumer writes into: each batch first checks it is still current. */
  generation: StateGeneration;
  /** Consumer group (named after the generation: a new generation replays from the earliest offset). */
  groupId: string;
  /** Told the last offset done per partition (for catch-up waits). */
  onProgress?: (partition: number, lastOffset: string) => void;
}

function kitWithProgress(ctx: AppContext, onProgress?: (partition: number, lastOffset: string) => void) {
  const kit = consumerKit(ctx);
  if (!onProgress) return kit;
  return {
    ...kit,
    hooks: {
      ...kit.hooks,
      onProgress: (g: string, t: string, p: number, o: string) => {
        kit.hooks.onProgress(g, t, p, o);
        onProgress(p, o);
      },
    },
  };
}

/**
 * catalog.items (namespace `items`) -> item embeddings the behaviour side hashes. An upsert whose
 * embedding is not valid for the namespace's declared dimension (libs/contracts embeddingProblem)
 * is dead-lettered with that problem's code.
 */
export async function startItemConsumer(ctx: AppContext, repo: BehaviorRepository, itemsDim: number, opts: StateConsumerOptions): Promise<Subscription> {
  return startEventBatchConsumer({
    ...kitWithProgress(ctx, opts.onProgress),
    bus: ctx.infra.bus,
    topic: TOPICS.catalogItems,
    groupId: opts.groupId,
    dlqScope: ITEM_DLQ_SCOPE,
    fromBeginning: true,
    maxBatchSize: 500,
    handleBatch: async (events) => {
      await opts.generation.assertCurrent();
      const rejected: { index: number; code: string; reason: string }[] = [];
      const upserts: { i: number; item: { itemId: string; embedding: number[]; group?: string; updatedAt: number } }[] = [];
      for (let i = 0; i < events.length; i++) {
        const e = events[i].event;
        if (e.namespace !== 'items') continue;
        if (e.op === 'delete') {
          // Flush pending upserts first so the order per item is kept.
          await flush();
          await repo.deleteItem(e.itemId, e.timestamp);
          continue;
        }
        const problem = embeddingProblem(e.embedding!, itemsDim);
        if (problem) rejected.push({ index: i, code: problem.code, reason: problem.message });
        else upserts.push({ i, item: { itemId: e.itemId, embedding: e.embedding!, group: e.group, updatedAt: e.timestamp } });
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
}

/**
 * user.behaviors -> history, SDIM tables and user embedding. The repository is idempotent by
 * event id (ids live in the history), so a redelivered batch changes nothing. A behaviour for an
 * item the catalog has not delivered yet waits (the catalog consumer runs concurrently) for up
 * to `unknownItemWaitMs`, then goes to the DLQ with code `unknown_item`; the partition moves on.
 */
export async function startBehaviorConsumer(ctx: AppContext, repo: BehaviorRepository, unknownItemWaitMs: number, opts: StateConsumerOptions): Promise<Subscription> {
  return startEventBatchConsumer({
    ...kitWithProgress(ctx, opts.onProgress),
    bus: ctx.infra.bus,
    topic: TOPICS.userBehaviors,
    groupId: opts.groupId,
    dlqScope: BEHAVIOR_DLQ_SCOPE,
    fromBeginning: true,
    // Up to what one fetch of a partition returned: a user's events of a batch cost one read and
    // one write of its state, so larger batches coalesce more (bench/results/sdim.json: a Zipf
    // stream takes ~30% less CPU per event than with batches of 1,000), at the price of a longer
    // time between a behaviour and its effect (a batch of 5,000 is applied in under a second).
    maxBatchSize: 5000,
    handleBatch: async (events) => {
      await opts.generation.assertCurrent();
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
}
