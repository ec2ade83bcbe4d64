import { hostname } from 'node:os';
import { TOPICS } from '@recsys/contracts';
import { OnnxModelRunner } from '@recsys/infra/model-runner/model-runner.onnx.adapter';
import { OnnxWorkerModelRunner } from '@recsys/infra/model-runner/model-runner.onnx-worker.adapter';
import type { ModelRunner } from '@recsys/infra/model-runner/model-runner.port';
import { startEventConsumer } from '@recsys/messaging';
import { consumerKit, DomainError, type AppContext } from '@recsys/platform';
import { readState } from '@recsys/platform/state-read';
import { ItemFeatureTable, UnknownDomainError, type AssembledFeatures } from '@recsys/ranking';
import { hasherFor, readUserTables } from '@recsys/sdim';
import type { PromoteRequest, RankRequest, RegisterRequest } from './api/dto';
import { startCatalogConsumer } from './catalog.consumer';
import { loadModel, sha256, type LoadedModel, type LoadModelOptions } from './domain/loaded-model';
import { ModelManager } from './domain/model-manager';
import { ModelRegistry, type ChangeResult } from './domain/model-registry';
import { ShadowScorer } from './domain/shadow-scorer';
import { rankingMetrics, type RankingMetrics } from './ranking.metrics';

export interface RankedItem {
  itemId: string;
  pctr: number;
  routing?: number[];
}

export interface RankResult {
  model: { name: string; version: string };
  items: RankedItem[];
  timings: { stateMs: number; featureMs: number; modelMs: number };
  shadowVersion?: string;
}

/**
 * Ranking use cases: POST /v1/rank on the live model (shadow-scored when a shadow exists), the
 * registry admin API, and the consumers that keep this replica current: catalog.items into the
 * item feature table, models.lifecycle into the model slots.
 */
export class RankingService {
  readonly registry: ModelRegistry;
  readonly items: ItemFeatureTable;
  readonly manager: ModelManager;
  readonly replicaId: string;
  private readonly metrics: RankingMetrics;
  private readonly shadow: ShadowScorer;
  private readonly loadOptions: LoadModelOptions;
  private catalogCaughtUp = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: AppContext,
    runner?: ModelRunner,
  ) {
    const c = ctx.config;
    runner ??= c.RANKING_MODEL_ISOLATION === 'worker' ? new OnnxWorkerModelRunner() : new OnnxModelRunner();
    const sdim = { seed: c.SDIM_SEED, m: c.SDIM_M, tau: c.SDIM_TAU, d: c.EMBEDDING_DIM };
    this.replicaId = c.RANKING_REPLICA_ID ?? `${hostname()}-${process.pid}`;
    this.metrics = rankingMetrics(ctx.metrics);
    this.registry = new ModelRegistry(ctx.infra.sql);
    this.items = new ItemFeatureTable(hasherFor(sdim));
    this.loadOptions = { runner, deployment: { sdim, embeddingDim: c.EMBEDDING_DIM }, intraOpThreads: c.RANKING_INTRA_OP_THREADS };
    this.manager = new ModelManager(c.RANKING_MODEL_NAME, this.registry, this.loadOptions, ctx.log, {
      onSwap: (slot, from, to, loadMs) => {
        this.metrics.swaps.inc({ slot });
        if (from) this.metrics.modelInfo.remove({ slot, version: from });
        if (to) {
          this.metrics.modelInfo.set({ slot, version: to }, 1);
          this.metrics.loadSeconds.observe(loadMs / 1000);
        }
      },
      onLoadFailure: (slot) => this.metrics.loadFailures.inc({ slot }),
    });
    this.shadow = new ShadowScorer(c.RANKING_SHADOW_MAX_PENDING, (id) => this.items.get(id), this.metrics, ctx.log.child({ component: 'shadow' }));
  }

  async start(): Promise<void> {
    const ctx = this.ctx;
    const c = ctx.config;
    // Follow models.lifecycle from the offsets before the first registry read: a change committed
    // after that read is seen as an event, one before it by the read itself.
    await ctx.infra.bus.ensureTopics([{ topic: TOPICS.modelsLifecycle }]);
    const lifecycleFrom = await ctx.infra.bus.endOffsets(TOPICS.modelsLifecycle);
    await this.manager.reconcile().catch((e) => ctx.log.error({ err: (e as Error).message }, 'initial model load failed; retrying on the next lifecycle event or reconcile tick'));
    const lifecycle = await startEventConsumer({
      bus: ctx.infra.bus,
      topic: TOPICS.modelsLifecycle,
      groupId: `ranking-models-${this.replicaId}`,
      fromBeginning: false,
      startOffsets: { [TOPICS.modelsLifecycle]: lifecycleFrom },
      ...consumerKit(ctx),
      // One DLQ record per bad lifecycle event for all replicas (their groups are per replica).
      dlqScope: 'ranking-models',
      // Idempotent without a ledger: an event only triggers a comparison with the registry.
      handle: async (event) => {
        if (event.modelName === this.manager.name) await this.manager.reconcile();
      },
    });
    ctx.subscriptions.push(lifecycle);
    const catalog = await startCatalogConsumer(ctx, this.items, `ranking-items-${this.replicaId}`, () => this.metrics.catalogItems.set(this.items.size));
    void catalog.caughtUp.then(() => (this.catalogCaughtUp = true));
    this.timer = setInterval(() => {
      this.manager.reconcile().catch((e) => ctx.log.warn({ err: (e as Error).message }, 'model reconcile failed'));
    }, c.RANKING_RECONCILE_INTERVAL_MS);
    this.timer.unref();
    ctx.healthChecks.set('models', async () => {
      const p = this.manager.problems();
      if (p.length) throw new Error(p.map((x) => `${x.slot} ${x.version}: ${x.message}`).join('; '));
    });
    ctx.shutdownHooks.push(async () => {
      clearInterval(this.timer);
      await this.manager.close();
    });
  }

  async rank(req: RankRequest): Promise<RankResult> {
    const itemIds = [...new Set(req.candidates)];
    const max = this.ctx.config.RANKING_MAX_CANDIDATES;
    if (itemIds.length > max) throw new DomainError('too_many_candidates', 422, `${itemIds.length} candidates; at most ${max} per request`, { max });
    // Read both slots and take the references in one synchronous step: a concurrent swap cannot
    // pair a live model with a shadow of another generation, nor free a model this request uses.
    const live = this.manager.live?.acquire();
    if (!live) throw new DomainError('no_live_model', 503, `no live version of model '${this.manager.name}' is loaded`, { model: this.manager.name });
    let shadow = this.manager.shadow?.acquire();
    try {
      try {
        live.assembler.domain(req.domain);
      } catch (e) {
        if (e instanceof UnknownDomainError) throw new DomainError('unknown_domain', 422, e.message, { domain: e.domain, domains: e.known });
        throw e;
      }
      const t0 = performance.now();
      const needsTables = live.assembler.spec.inputs.some((i) => i.name === 'sdim_interest') || !!shadow?.spec.inputs.some((i) => i.name === 'sdim_interest');
      // Blob and delta tail in one round trip, the pending deltas applied (libs/sdim tail.ts).
      const tables = needsTables ? await readState(this.ctx, () => readUserTables(this.ctx.infra.state, req.userId)) : null;
      const t1 = performance.now();
      const features = live.assembler.assemble({ userId: req.userId, domain: req.domain, itemIds, tables }, (id) => this.items.get(id));
      const t2 = performance.now();
      const out = await live.session.run(features.feeds, req.explain ? ['pctr', 'routing'] : ['pctr']);
      const t3 = performance.now();
      this.observe(features, t1 - t0, t2 - t1, t3 - t2);
      const pctr = out.pctr.data as Float32Array;
      const result: RankResult = {
        model: { name: live.name, version: live.version },
        items: this.sorted(itemIds, pctr, req.explain ? (out.routing.data as Float32Array) : undefined, live.spec.model.routingDim),
        timings: { stateMs: t1 - t0, featureMs: t2 - t1, modelMs: t3 - t2 },
      };
      if (shadow) {
        result.shadowVersion = shadow.version;
        this.shadow.schedule({ shadow, live, userId: req.userId, domain: req.domain, itemIds, livePctr: pctr, liveFeatures: features, tables });
        shadow = undefined; // the scorer owns the reference now
      }
      return result;
    } finally {
      live.release();
      shadow?.release();
    }
  }

  private observe(f: AssembledFeatures, stateMs: number, featureMs: number, modelMs: number) {
    this.metrics.stateSeconds.observe(stateMs / 1000);
    this.metrics.featureSeconds.observe(featureMs / 1000);
    this.metrics.modelSeconds.observe({ slot: 'live' }, modelMs / 1000);
    this.metrics.candidates.observe(f.batch);
    if (f.unknownItems) this.metrics.unknownItems.inc(f.unknownItems);
    this.metrics.users.inc({ state: f.user });
    if (f.user === 'invalid') this.ctx.log.warn({ problem: f.userProblem }, "user's SDIM tables ignored");
  }

  /** By pctr descending; equal scores keep the request's order. */
  private sorted(itemIds: string[], pctr: Float32Array, routing: Float32Array | undefined, k: number): RankedItem[] {
    const order = Array.from(itemIds.keys()).sort((a, b) => pctr[b] - pctr[a] || a - b);
    return order.map((i) => (routing ? { itemId: itemIds[i], pctr: pctr[i], routing: Array.from(routing.subarray(i * k, (i + 1) * k)) } : { itemId: itemIds[i], pctr: pctr[i] }));
  }

  // ---- registry admin ----

  async register(name: string, version: string, req: RegisterRequest) {
    const artifact = Buffer.from(req.artifactBase64, 'base64');
    const checksum = sha256(artifact);
    // Refuse here what no replica of this deployment could serve (422 with every problem).
    const probe: LoadedModel = await loadModel(this.loadOptions, { name, version, artifact, featureSpec: req.featureSpec, checksum });
    await probe.retire();
    const r = await this.registry.register({ name, version, artifact, checksum, featureSpec: req.featureSpec, metrics: req.metrics });
    await this.publish(r);
    return { created: r.created, version: r.version };
  }

  async promote(name: string, version: string, req: PromoteRequest) {
    return this.afterChange(name, await this.registry.promote(name, version, req.to));
  }

  async rollback(name: string) {
    const r = await this.registry.rollback(name);
    return { from: r.from, ...(await this.afterChange(name, r)) };
  }

  async retire(name: string, version: string) {
    return this.afterChange(name, await this.registry.retire(name, version));
  }

  async describe(name: string) {
    return { ...(await this.registry.describe(name)), serving: name === this.manager.name ? this.status().models : null };
  }

  list() {
    return this.registry.list();
  }

  version(name: string, version: string) {
    return this.registry.version(name, version);
  }

  status() {
    return {
      replica: this.replicaId,
      modelName: this.manager.name,
      models: this.manager.describe(),
      catalog: { items: this.items.size, caughtUp: this.catalogCaughtUp },
      shadowInFlight: this.shadow.inFlight,
    };
  }

  /** Publishes the changes, then brings this replica up to date before answering (the others follow the events). */
  private async afterChange(name: string, r: ChangeResult) {
    await this.publish(r);
    if (r.changes.length && name === this.manager.name) {
      // The change is committed and published whatever happens here; a failed local pass (e.g. the
      // database went away) is retried by the lifecycle consumer and the reconcile timer.
      await this.manager.reconcile().catch((e) => this.ctx.log.warn({ err: (e as Error).message }, 'reconcile after a registry change failed'));
    }
    return { changed: r.changes.length > 0, version: r.version, serving: name === this.manager.name ? this.manager.describe() : null };
  }

  private async publish(r: ChangeResult) {
    if (!r.changes.length) return;
    const now = Date.now();
    await this.ctx.publisher.publish(
      TOPICS.modelsLifecycle,
      r.changes.map((c) => ({
        eventId: `model-${c.name}-${c.eventId}`,
        key: c.name,
        timestamp: now,
        schemaVersion: 1 as const,
        modelName: c.name,
        version: c.version,
        action: c.action,
        checksum: c.checksum,
      })),
    );
  }
}
