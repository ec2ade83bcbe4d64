import { DomainError, type AppContext } from '@recsys/platform';
import type { InterestRequest } from './api/dto';
import { BehaviorRepository } from './domain/behavior.repository';
import { startBehaviorConsumer, startItemConsumer } from './behavior.consumers';

/** Behaviour use cases: the consumers that write user state, and the read API. */
export class BehaviorService {
  readonly repo: BehaviorRepository;

  constructor(private readonly ctx: AppContext) {
    const c = ctx.config;
    this.repo = new BehaviorRepository(ctx.infra.state, {
      sdim: { seed: c.SDIM_SEED, m: c.SDIM_M, tau: c.SDIM_TAU, d: c.EMBEDDING_DIM },
      historyCap: c.BEHAVIOR_HISTORY_CAP,
      tableTypes: new Set(c.BEHAVIOR_TABLE_TYPES),
    });
  }

  async start() {
    await startItemConsumer(this.ctx, this.repo);
    await startBehaviorConsumer(this.ctx, this.repo, this.ctx.config.BEHAVIOR_UNKNOWN_ITEM_WAIT_MS);
  }

  async history(userId: string, limit: number) {
    const [items, total] = await Promise.all([this.repo.getHistory(userId, limit), this.repo.historyLength(userId)]);
    return { userId, total, items };
  }

  async embedding(userId: string) {
    const e = await this.repo.getEmbedding(userId);
    if (!e) throw new DomainError('user_embedding_not_found', 404, `user '${userId}' has no behaviour history yet`, { userId });
    return { userId, dim: e.vector.length, vector: Array.from(e.vector), count: e.count, newestTs: e.newestTs };
  }

  async interest(userId: string, req: InterestRequest) {
    let vectors: ArrayLike<number>[];
    if (req.itemIds) {
      const items = await Promise.all(req.itemIds.map((id) => this.repo.getItem(id)));
      const unknown = req.itemIds.filter((_, i) => !items[i] || items[i]!.deleted);
      if (unknown.length) throw new DomainError('unknown_items', 422, `unknown items: ${unknown.slice(0, 20).join(', ')}`, { unknownItems: unknown });
      vectors = items.map((it) => it!.embedding);
    } else {
      vectors = req.vectors!;
      const d = this.repo.config.sdim.d;
      const bad = vectors.findIndex((v) => v.length !== d);
      if (bad >= 0) throw new DomainError('dimension_mismatch', 422, `vectors[${bad}] has dimension ${vectors[bad].length}, expected ${d}`);
    }
    const out = await this.repo.interest(userId, vectors, req.normalize ? { normalize: req.normalize } : {});
    return { userId, interests: out.map((v, i) => ({ ...(req.itemIds ? { itemId: req.itemIds[i] } : { index: i }), vector: Array.from(v) })) };
  }
}
