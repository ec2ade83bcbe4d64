import { TOPICS } from '@recsys/contracts';
import {
  allocateLayerRange,
  analyse,
  Assigner,
  METRICS,
  sequentialTest,
  statOf,
  toGrowthBookExperiment,
  addSums,
  type Attributes,
  type ConfigOverrides,
  type ExperimentDef,
  type HoldoutDef,
  type VariantSums,
} from '@recsys/experiments';
import { estimateAll } from '@recsys/ope';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, DomainError, type AppContext } from '@recsys/platform';
import type { CreateExperimentRequest, ResultsQuery, UpdateExperimentRequest } from './api/dto';
import { ExperimentsRepository, type ExperimentRecord, type Status } from './domain/experiments.repository';
import { adFact, feedbackFact, impressionFact, type AdloadLogOp, type Fact } from './domain/facts';
import { MetricsStore } from './domain/metrics.store';

/** How long the metric consumers wait to fill a batch: metrics stay fresh within a fraction of a second. */
export const METRICS_BATCH_LINGER_MS = 250;

/** How often a replica re-reads the running experiments besides its own writes. */
const REFRESH_MS = 5000;

const ALLOWED: Record<Status, Status[]> = { draft: ['running'], running: ['stopped', 'shipped'], stopped: ['shipped', 'running'], shipped: [] };

export function toDef(e: ExperimentRecord): ExperimentDef {
  return {
    key: e.key,
    seed: e.seed,
    variants: e.variants,
    coverage: e.coverage,
    targeting: e.targeting,
    ...(e.layerKey && e.layerRange ? { layer: { key: e.layerKey, range: e.layerRange } } : {}),
  };
}

/** Ad-load policy of a variant (`adLoadPolicy` override): a fixed number of ad slots, or a distribution {"<slots>": probability}. */
export function adLoadPolicyOf(overrides: ConfigOverrides): Record<string, number> | undefined {
  const p = overrides.adLoadPolicy;
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return { [String(p)]: 1 };
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const entries = Object.entries(p as Record<string, unknown>).filter(([k, v]) => /^\d+$/.test(k) && typeof v === 'number' && v >= 0);
    const total = entries.reduce((s, [, v]) => s + (v as number), 0);
    if (entries.length && total > 0) return Object.fromEntries(entries.map(([k, v]) => [k, (v as number) / total]));
  }
  return undefined;
}

export class ExperimentsService {
  readonly repo: ExperimentsRepository;
  readonly store: MetricsStore;
  private assigner = new Assigner([]);
  private holdout: HoldoutDef = { seed: 'global-holdout', fraction: 0 };
  private defaults: ConfigOverrides = {};
  private shipped: Array<{ experiment: string; variant: string }> = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: AppContext) {
    this.repo = new ExperimentsRepository(ctx.infra.sql);
    this.store = new MetricsStore(ctx.infra.sql);
  }

  async start() {
    await this.seedDemo();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((e) => this.ctx.log.warn({ err: e }, 'experiments refresh failed')), REFRESH_MS);
    this.timer.unref();
    this.ctx.shutdownHooks.push(async () => clearInterval(this.timer));
    await this.startConsumers();
  }

  /**
   * The one-command demo (SEED_DEMO, as the suite decides it: 'true', or 'auto' on the embedded bus):
   * a running experiment on the ad-load and slate policies, so the dashboard fills with the demo traffic.
   */
  private async seedDemo() {
    const c = this.ctx.config;
    const seed = c.SEED_DEMO === 'true' || (c.SEED_DEMO === 'auto' && this.ctx.infra.kinds.bus === 'inprocess');
    if (!seed || (await this.repo.list()).length > 0) return;
    await this.create({
      key: 'demo-adload',
      name: 'Demo: two ad slots per fetch',
      description: 'Seeded at start (SEED_DEMO): the treatment always shows two ads; the control mixes one and two.',
      variants: [
        { key: 'control', weight: 1, overrides: { adLoadPolicy: { '1': 0.5, '2': 0.5 } } },
        { key: 'treatment', weight: 1, overrides: { adLoadPolicy: 2 } },
      ],
      coverage: 1,
      targeting: {},
      primaryMetric: 'ctr',
      start: true,
    });
    this.ctx.log.info('demo experiment demo-adload created and started (SEED_DEMO=false to skip)');
  }

  /** Rebuilds the in-memory assigner from PostgreSQL (running experiments, holdout, shipped defaults). */
  async refresh() {
    const [all, holdout] = await Promise.all([this.repo.list(), this.repo.holdout()]);
    const shipped = all.filter((e) => e.status === 'shipped' && e.shippedVariant).sort((a, b) => (a.stoppedAt ?? '').localeCompare(b.stoppedAt ?? ''));
    const defaults: ConfigOverrides = {};
    for (const e of shipped) Object.assign(defaults, e.variants.find((v) => v.key === e.shippedVariant)?.overrides ?? {});
    this.defaults = defaults;
    this.shipped = shipped.map((e) => ({ experiment: e.key, variant: e.shippedVariant! }));
    this.holdout = holdout;
    this.assigner = new Assigner(all.filter((e) => e.status === 'running').map(toDef), holdout, defaults);
  }

  assign(userId: string, attributes: Attributes) {
    const r = this.assigner.assign(userId, attributes);
    return { userId, heldOut: r.heldOut, assignments: r.assignments.map(({ experiment, variant, overrides }) => ({ experiment, variant, overrides })), config: r.config };
  }

  defaultsView() {
    return { defaults: this.defaults, shipped: this.shipped };
  }

  view(e: ExperimentRecord) {
    return {
      key: e.key,
      name: e.name,
      description: e.description,
      status: e.status,
      seed: e.seed,
      coverage: e.coverage,
      variants: e.variants,
      targeting: e.targeting as Record<string, unknown>,
      layer: e.layerKey ? { key: e.layerKey, share: e.layerShare ?? 1, range: e.layerRange } : null,
      primaryMetric: e.primaryMetric,
      shippedVariant: e.shippedVariant,
      createdAt: e.createdAt,
      startedAt: e.startedAt,
      stoppedAt: e.stoppedAt,
      growthbook: toGrowthBookExperiment(toDef(e), this.holdout) as Record<string, unknown>,
    };
  }

  async list() {
    return { experiments: (await this.repo.list()).map((e) => this.view(e)), holdout: this.holdout };
  }

  async get(key: string) {
    const e = await this.repo.get(key);
    if (!e) throw new DomainError('experiment_not_found', 404, `no experiment '${key}'`);
    return e;
  }

  async create(body: CreateExperimentRequest) {
    const seen = new Set<string>();
    for (const v of body.variants) {
      if (seen.has(v.key)) throw new DomainError('duplicate_variant', 422, `variant key '${v.key}' appears twice: variant keys must be unique`, { variant: v.key });
      seen.add(v.key);
    }
    if (body.layerShare !== undefined && !body.layer) throw new DomainError('layer_share_without_layer', 422, 'layerShare needs a layer');
    const created = await this.repo.insert({
      key: body.key,
      name: body.name,
      description: body.description,
      seed: body.seed ?? body.key,
      coverage: body.coverage,
      variants: body.variants,
      targeting: body.targeting,
      layerKey: body.layer ?? null,
      layerShare: body.layer ? (body.layerShare ?? 1) : null,
      primaryMetric: body.primaryMetric,
    });
    if (!created) throw new DomainError('experiment_exists', 409, `experiment '${body.key}' exists`);
    if (body.start) return this.transition(body.key, 'running');
    return this.view(await this.get(body.key));
  }

  async update(key: string, patch: UpdateExperimentRequest) {
    const e = await this.get(key);
    if (e.status === 'shipped') throw new DomainError('experiment_shipped', 409, `experiment '${key}' is shipped and can no longer change`);
    if (patch.coverage !== undefined && e.status === 'running' && patch.coverage < e.coverage) {
      throw new DomainError('coverage_decrease', 409, 'lowering the coverage of a running experiment would move assigned users out; stop it instead');
    }
    await this.repo.update(key, patch);
    await this.refresh();
    return this.view(await this.get(key));
  }

  async transition(key: string, to: Status, shippedVariant?: string) {
    await this.ctx.infra.sql.transaction(async (tx) => {
      const e = await this.repo.get(key, tx, true);
      if (!e) throw new DomainError('experiment_not_found', 404, `no experiment '${key}'`);
      if (!ALLOWED[e.status].includes(to)) throw new DomainError('invalid_transition', 409, `cannot go from ${e.status} to ${to}`, { from: e.status, to });
      if (to === 'shipped') {
        if (!shippedVariant || !e.variants.some((v) => v.key === shippedVariant)) {
          throw new DomainError('unknown_variant', 422, `variant '${shippedVariant}' is not a variant of '${key}'`);
        }
        await this.repo.setStatus(tx, key, 'shipped', { shippedVariant, layerRange: null });
        return;
      }
      if (to === 'running') {
        let layerRange: [number, number] | null | undefined;
        if (e.layerKey) {
          const taken = await this.repo.layerRanges(tx, e.layerKey);
          const r = allocateLayerRange(taken, e.layerShare ?? 1);
          if (!r) throw new DomainError('layer_full', 409, `layer '${e.layerKey}' has no free share of ${e.layerShare ?? 1} (held: ${JSON.stringify(taken)})`);
          layerRange = [r[0], r[1]];
        }
        await this.store.initVariants(
          tx,
          key,
          e.variants.map((v) => v.key),
        );
        await this.repo.setStatus(tx, key, 'running', layerRange !== undefined ? { layerRange } : {});
        return;
      }
      // stopped: the layer share is freed for others; the results stay.
      await this.repo.setStatus(tx, key, to, { layerRange: null });
    });
    await this.refresh();
    return this.view(await this.get(key));
  }

  async setHoldout(fraction: number, seed?: string) {
    await this.repo.setHoldout({ fraction, seed: seed ?? this.holdout.seed });
    await this.refresh();
    return this.holdout;
  }

  async results(key: string, q: ResultsQuery) {
    const t0 = performance.now();
    const e = await this.get(key);
    const [sums, daily] = await Promise.all([this.store.variantSums(key), this.store.dailySums(key)]);
    const variants = e.variants.map((v) => ({ key: v.key, weight: v.weight, sums: sums.get(v.key) ?? {} }));
    const a = analyse(variants, { alpha: q.alpha, sequential: q.sequential, cuped: q.cuped, correction: q.correction });
    const labels = new Map(METRICS.map((m) => [m.key, m.label]));
    const metricKey = q.metric ?? e.primaryMetric;
    const metric = METRICS.find((m) => m.key === metricKey) ?? METRICS[0];
    // Cumulative statistics per day (prefix sums of the daily deltas) and the confidence sequence of the lift.
    const days = [...new Set(daily.map((d) => d.day))].sort();
    const cum = new Map<string, VariantSums>(e.variants.map((v) => [v.key, {}]));
    const points: Array<{ day: string; variant: string; users: number; lift: number; ci: [number, number] }> = [];
    for (const day of days) {
      for (const d of daily) if (d.day === day && cum.has(d.variant)) addSums(cum.get(d.variant)!, d.sums);
      const control = statOf(metric, cum.get(e.variants[0].key)!, q.cuped);
      for (const v of e.variants.slice(1)) {
        const s = cum.get(v.key)!;
        if (!s.n || !cum.get(e.variants[0].key)!.n) continue;
        const r = sequentialTest(control, statOf(metric, s, q.cuped), { alpha: q.alpha });
        if (r.errorMessage) continue;
        points.push({ day, variant: v.key, users: s.n, lift: r.expected, ci: r.ci });
      }
    }
    return {
      experiment: key,
      status: e.status,
      settings: { sequential: q.sequential, cuped: q.cuped, correction: q.correction, alpha: q.alpha },
      variants: a.variants,
      srm: a.srm,
      metrics: a.metrics.map((m) => ({ ...m, label: labels.get(m.metric) ?? m.metric })),
      daily: { metric: metric.key, points },
      computedMs: performance.now() - t0,
    };
  }

  /**
   * Pre-launch estimate of a variant's ad-load policy from the logged ad-load decisions of
   * feed.impressions (their propensities) and the clicks of those fetches: IPS and SNIPS from
   * libs/ope, with their normal intervals.
   */
  async ope(key: string) {
    const e = await this.get(key);
    const policies = e.variants.map((v) => ({ variant: v.key, policy: adLoadPolicyOf(v.overrides) })).filter((p) => p.policy);
    const base = {
      experiment: key,
      logged: 0,
      estimates: [] as Array<{ variant: string; policy: Record<string, number>; estimator: string; value: number; ci: [number, number]; ess: number }>,
      loggedValue: null as number | null,
    };
    if (policies.length === 0) return { ...base, available: false, reason: 'no variant sets an adLoadPolicy override (a number of ad slots or {"slots": probability})' };
    const log = await this.store.adloadLog();
    if (log.length === 0) return { ...base, available: false, reason: 'no logged ad-load decisions yet (feed.impressions with adLoad)' };
    const maxSlot = Math.max(...log.map((l) => l.adSlots), ...policies.flatMap((p) => Object.keys(p.policy!).map(Number)));
    const nActions = maxSlot + 1;
    const reward = Float64Array.from(log, (l) => l.clicks);
    const action = Float64Array.from(log, (l) => l.adSlots);
    const pscore = Float64Array.from(log, (l) => l.propensity);
    for (const p of policies) {
      const dist = new Float64Array(nActions);
      for (const [k, v] of Object.entries(p.policy!)) dist[Number(k)] = v;
      const actionDist = new Float64Array(log.length * nActions);
      for (let i = 0; i < log.length; i++) actionDist.set(dist, i * nActions);
      const results = estimateAll({ reward, action, pscore, nActions, actionDist }, { estimators: ['ips', 'snips'], bootstrap: false });
      for (const r of results) base.estimates.push({ variant: p.variant, policy: p.policy!, estimator: r.estimator, value: r.value, ci: [r.ci.lower, r.ci.upper] as [number, number], ess: r.ess });
    }
    return { ...base, available: true, logged: log.length, loggedValue: reward.reduce((s, x) => s + x, 0) / log.length };
  }

  private async startConsumers() {
    // Metric hooks and the dead-letter ledger (one DLQ record per bad message across restarts).
    const kit = consumerKit(this.ctx);
    const subscribe = async <T extends 'feed.impressions' | 'feed.feedback' | 'ads.events'>(topic: T, group: string, map: (e: never) => { fact?: Fact; adload?: AdloadLogOp }) => {
      const sub = await startEventBatchConsumer({
        bus: this.ctx.infra.bus,
        topic,
        groupId: group,
        maxBatchSize: 2000,
        // Each batch is one SQL transaction of about a dozen statements: at feed rates, batches of one
        // would spend most of a core in the database; a short linger makes them tens of events each.
        batchLingerMs: METRICS_BATCH_LINGER_MS,
        ...kit,
        handleBatch: async (records) => {
          const facts: Fact[] = [];
          const adload: AdloadLogOp[] = [];
          for (const r of records) {
            const m = map(r.event as never);
            if (m.fact) facts.push(m.fact);
            if (m.adload) adload.push(m.adload);
          }
          await this.store.apply(group, facts, adload);
        },
      });
      this.ctx.subscriptions.push(sub);
    };
    await subscribe(TOPICS.feedImpressions, 'experiments-impressions', (e: import('@recsys/contracts').FeedImpressionEvent) => ({
      fact: impressionFact(e),
      adload: e.adLoad ? { eventId: e.eventId, requestId: e.requestId, ts: e.timestamp, policyId: e.adLoad.policyId, adSlots: e.adLoad.adSlots, propensity: e.adLoad.propensity } : undefined,
    }));
    await subscribe(TOPICS.feedFeedback, 'experiments-feedback', (e: import('@recsys/contracts').FeedFeedbackEvent) => ({
      fact: feedbackFact(e),
      adload: e.type === 'click' && e.requestId ? { eventId: e.eventId, requestId: e.requestId, clicks: 1 } : undefined,
    }));
    await subscribe(TOPICS.adsEvents, 'experiments-ads', (e: import('@recsys/contracts').AdEvent) => ({ fact: adFact(e) }));
  }
}
