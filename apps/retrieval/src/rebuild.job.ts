import { decodeEvent, TOPICS } from '@recsys/contracts';
import type { JobContext } from '@recsys/infra/job-queue/job-queue.port';
import type { AppContext } from '@recsys/platform';
import type { VectorIndex } from '@recsys/ann/vector-index.port';
import { CatalogIndex } from './domain/catalog-index';
import type { IndexFactory, IndexKind } from './domain/index-factory';

export const REBUILD_QUEUE = 'retrieval-rebuild';

export interface RebuildJobData {
  namespace: string;
  kind: IndexKind;
}

/**
 * Rebuilds one namespace from the catalog log (the source of truth) into a fresh index, then swaps
 * it in. Phase 1 replays up to the live index's applied offsets while the live consumer keeps
 * going; phase 2 closes the gate (live consumer paused), catches up to where it stopped and swaps,
 * so the new index has exactly the live index's effects. Progress = records replayed / to replay.
 */
export async function runRebuild(ctx: AppContext, live: CatalogIndex, factory: IndexFactory, job: JobContext<RebuildJobData>) {
  const { namespace, kind } = job.data;
  const current = live.get(namespace);
  if (!current) throw new Error(`namespace '${namespace}' does not exist`);
  const topic = TOPICS.catalogItems;
  const fresh = factory.create(kind, namespace, current.dim, current.metric);
  const shadow = new CatalogIndex({ create: () => fresh, load: factory.load.bind(factory) }, { kind, metric: current.metric, dims: { [namespace]: current.dim } });

  const replayed: Record<number, bigint> = {};
  const target = () => Object.fromEntries(Object.entries(live.appliedOffsets()[topic] ?? {}).map(([p, o]) => [Number(p), BigInt(o)]));
  const total = Object.values(target()).reduce((a, o) => a + Number(o) + 1, 0);
  let done = 0;
  let lastReport = 0;
  const reached = (goal: Record<number, bigint>) => Object.entries(goal).every(([p, o]) => (replayed[Number(p)] ?? -1n) >= o);

  let wake: (() => void) | undefined;
  let goal = target();
  const sub = await ctx.infra.bus.subscribe({
    groupId: `retrieval-rebuild-${namespace}-${job.id}`,
    topics: [topic],
    startOffsets: { [topic]: Object.fromEntries(Object.keys(goal).map((p) => [Number(p), '0'])) },
    handler: async (record) => {
      const off = BigInt(record.offset);
      if (off > (goal[record.partition] ?? -1n)) return; // beyond what the live index has applied
      try {
        const event = decodeEvent(topic, record.value);
        if (event.namespace === namespace) shadow.applyNow(event);
      } catch {
        // Invalid or rejected records were dead-lettered by the live consumer; skip them here too.
      }
      replayed[record.partition] = off;
      done++;
      if (done - lastReport >= 1000) {
        lastReport = done;
        await job.updateProgress(Math.min(99, Math.floor((100 * done) / Math.max(1, total))));
      }
      if (reached(goal)) wake?.();
    },
  });
  const waitFor = async () => {
    while (!reached(goal)) await new Promise<void>((r) => ((wake = r), setTimeout(r, 200)));
  };
  let replaced: VectorIndex | undefined;
  try {
    await waitFor();
    await live.withGateClosed(async () => {
      goal = target();
      await waitFor();
      replaced = await live.replaceUnlocked(namespace, fresh);
    });
  } catch (e) {
    await factory.release?.(fresh);
    throw e;
  } finally {
    await sub.stop();
  }
  // Searches are synchronous, so none can still be using the replaced index: free its files.
  if (replaced !== undefined && replaced !== fresh) await factory.release?.(replaced);
  await job.updateProgress(100);
  ctx.log.info({ namespace, kind, size: fresh.size(), replayed: done }, 'rebuild swapped in');
  return { namespace, kind, size: fresh.size(), replayed: done };
}
