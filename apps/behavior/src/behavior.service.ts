import { embeddingProblem, TOPICS } from '@recsys/contracts';
import type { Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { restoreDeadLetterLedger, StateGeneration, StateStoreDeadLetterLedger, watchGeneration } from '@recsys/messaging';
import { DomainError, type AppContext } from '@recsys/platform';
import { namespaceDims } from '@recsys/platform/namespaces';
import { readState } from '@recsys/platform/state-read';
import type { InterestRequest } from './api/dto';
import { BehaviorRepository } from './domain/behavior.repository';
import { BEHAVIOR_DLQ_SCOPE, ITEM_DLQ_SCOPE, startBehaviorConsumer, startItemConsumer } from './behavior.consumers';

/**
 * Behaviour use cases: the consumers that write user state, and the read API.
 *
 * Everything this service keeps in the state store derives from catalog.items and user.behaviors,
 * under a generation marker (`generation:behavior`). When the marker is missing (first start, or
 * a store that lost its data: a Redis restart without its AOF, a flush), a new generation starts:
 * its consumer groups (`behavior-catalog.<gen>`, `behavior.<gen>`) replay both topics from the
 * earliest retained offset, the catalog first (so behaviours find their items), and the DLQ
 * dedupe ledger is restored from the DLQ topics first (so nothing is dead-lettered twice). A
 * running service notices a lost marker within STATE_GENERATION_CHECK_MS (and every batch checks
 * it before writing), stops its consumers and rebuilds the same way; readiness is down meanwhile.
 */
export class BehaviorService {
  repo: BehaviorRepository;
  readonly generation: StateGeneration;
  private subs: Subscription[] = [];
  private rebuilding: Promise<void> | null = null;
  private rebuildingSince: number | null = null;
  private stopped = false;
  private lastRebuild: { generation: string; startedAt: number; catalogCaughtUpMs?: number; dlqRestored?: number } | null = null;

  constructor(private readonly ctx: AppContext) {
    this.repo = this.createRepository();
    this.generation = new StateGeneration(ctx.infra.state, 'behavior');
  }

  private createRepository() {
    const c = this.ctx.config;
    return new BehaviorRepository(this.ctx.infra.state, {
      sdim: { seed: c.SDIM_SEED, m: c.SDIM_M, tau: c.SDIM_TAU, d: c.EMBEDDING_DIM },
      historyCap: c.BEHAVIOR_HISTORY_CAP,
      tableTypes: new Set(c.BEHAVIOR_TABLE_TYPES),
    });
  }

  async start() {
    const ctx = this.ctx;
    await this.runGeneration();
    const watcher = watchGeneration(this.generation, ctx.config.STATE_GENERATION_CHECK_MS, async (stored) => {
      ctx.log.warn({ was: this.generation.value, now: stored }, 'behavior: state generation marker changed (state store lost its data?): rebuilding from Kafka');
      await this.rebuild();
    });
    ctx.healthChecks.set('state', async () => {
      if (this.rebuildingSince !== null) throw new Error(`rebuilding state from Kafka (generation ${this.generation.value}) for ${Date.now() - this.rebuildingSince} ms`);
    });
    // Drained with the other consumers on shutdown.
    ctx.subscriptions.push({
      stop: async () => {
        this.stopped = true;
        watcher.stop();
        await this.rebuilding?.catch(() => undefined);
        await this.stopConsumers();
      },
    });
  }

  /** Stops the consumers and replays into a new (or another replica's newer) generation. */
  rebuild(): Promise<void> {
    this.rebuilding ??= (async () => {
      this.rebuildingSince = Date.now();
      try {
        await this.stopConsumers();
        if (this.stopped) return;
        this.repo = this.createRepository(); // drop caches of the old generation
        await this.runGeneration();
      } finally {
        this.rebuilding = null;
        this.rebuildingSince = null;
      }
    })();
    return this.rebuilding;
  }

  status() {
    return { generation: this.generation.value, rebuilding: this.rebuildingSince !== null, lastRebuild: this.lastRebuild };
  }

  private async stopConsumers() {
    const subs = this.subs.splice(0);
    await Promise.allSettled(subs.map((s) => s.stop()));
  }

  private async runGeneration() {
    const ctx = this.ctx;
    const { generation, fresh } = await this.generation.ensure();
    const startedAt = Date.now();
    if (fresh) {
      this.rebuildingSince ??= startedAt;
      const ledger = new StateStoreDeadLetterLedger(ctx.infra.state);
      const restored =
        (await restoreDeadLetterLedger(ctx.infra.bus, ledger, TOPICS.catalogItems, ITEM_DLQ_SCOPE)) + (await restoreDeadLetterLedger(ctx.infra.bus, ledger, TOPICS.userBehaviors, BEHAVIOR_DLQ_SCOPE));
      this.lastRebuild = { generation, startedAt, dlqRestored: restored };
      ctx.log.info({ generation, dlqRestored: restored }, 'behavior: new state generation: replaying catalog.items, then user.behaviors, from the earliest offset');
    }
    const dims = namespaceDims(ctx.config);
    const itemsDim = dims.items ?? ctx.config.EMBEDDING_DIM;
    if (itemsDim !== ctx.config.EMBEDDING_DIM) throw new Error(`NAMESPACE_DIMS declares items:${itemsDim}, but the behavior service hashes EMBEDDING_DIM=${ctx.config.EMBEDDING_DIM}`);
    const catalogEnd = fresh ? await ctx.infra.bus.endOffsets(TOPICS.catalogItems) : {};
    const done = new Map<number, bigint>();
    this.subs.push(
      await startItemConsumer(ctx, this.repo, itemsDim, {
        generation: this.generation,
        groupId: `behavior-catalog.${generation}`,
        onProgress: (p, o) => done.set(p, BigInt(o)),
      }),
    );
    if (fresh) {
      // Behaviours wait for the catalog they refer to (else they would wait, then go to the DLQ as unknown_item).
      const caughtUp = () => Object.entries(catalogEnd).every(([p, end]) => BigInt(end) === 0n || (done.get(Number(p)) ?? -1n) >= BigInt(end) - 1n);
      while (!caughtUp() && !this.stopped && this.generation.value === generation) await new Promise((r) => setTimeout(r, 50));
      if (this.lastRebuild) this.lastRebuild.catalogCaughtUpMs = Date.now() - startedAt;
    }
    this.subs.push(await startBehaviorConsumer(ctx, this.repo, ctx.config.BEHAVIOR_UNKNOWN_ITEM_WAIT_MS, { generation: this.generation, groupId: `behavior.${generation}` }));
    if (fresh && this.rebuildingSince === startedAt) this.rebuildingSince = null;
  }

  async history(userId: string, limit: number) {
    const [items, total] = await readState(this.ctx, () => Promise.all([this.repo.getHistory(userId, limit), this.repo.historyLength(userId)]));
    return { userId, total, items };
  }

  async embedding(userId: string) {
    const e = await readState(this.ctx, () => this.repo.getEmbedding(userId));
    if (!e) throw new DomainError('user_embedding_not_found', 404, `user '${userId}' has no behaviour history yet`, { userId });
    return { userId, dim: e.vector.length, vector: Array.from(e.vector), count: e.count, newestTs: e.newestTs };
  }

  async interest(userId: string, req: InterestRequest) {
    let vectors: ArrayLike<number>[];
    if (req.itemIds) {
      const items = await readState(this.ctx, () => Promise.all(req.itemIds!.map((id) => this.repo.getItem(id))));
      const unknown = req.itemIds.filter((_, i) => !items[i] || items[i]!.deleted);
      if (unknown.length) throw new DomainError('unknown_items', 422, `unknown items: ${unknown.slice(0, 20).join(', ')}`, { unknownItems: unknown });
      vectors = items.map((it) => it!.embedding);
    } else {
      vectors = req.vectors!;
      const d = this.repo.config.sdim.d;
      const bad = vectors.findIndex((v) => v.length !== d);
      if (bad >= 0) throw new DomainError('dimension_mismatch', 422, `vectors[${bad}] has dimension ${vectors[bad].length}, expected ${d}`);
      // The one definition of a valid embedding (finite inside float32, norm bound): the same as every consumer's.
      for (let k = 0; k < vectors.length; k++) {
        const problem = embeddingProblem(vectors[k], d);
        if (problem) throw new DomainError(problem.code, 422, `vectors[${k}]: ${problem.message}`, { index: k });
      }
    }
    const out = await readState(this.ctx, () => this.repo.interest(userId, vectors, req.normalize ? { normalize: req.normalize } : {}));
    return { userId, interests: out.map((v, i) => ({ ...(req.itemIds ? { itemId: req.itemIds[i] } : { index: i }), vector: Array.from(v) })) };
  }
}
