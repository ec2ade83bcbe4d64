import { randomUUID } from 'node:crypto';
import { stateKeys, TOPICS, validateEvent, type FeedImpressionEvent, type FeedStage } from '@recsys/contracts';
import { DomainError, type AppContext } from '@recsys/platform';
import type { GatewayConfig } from '../gateway.config';
import { StageError, type StageFailure } from '../stages/http-stage';
import type { AdFill, AdloadDecision, Assignments, SlateResult, StageClients } from '../stages/stage-clients';
import type { CatalogView } from './catalog-view';
import type { FeedMetrics } from './feed.metrics';
import type { PopularItems } from './popular';
import type { TrackingTokens } from './tracking-token';

export interface FeedRequest {
  userId: string;
  surface: string;
  domain: string;
  limit: number;
  /** Extra item ids the caller wants excluded. */
  exclude: string[];
}

export interface FeedItem {
  itemId: string;
  position: number;
  isAd: boolean;
  score?: number;
  propensity: number;
  group?: string;
  adId?: string;
  campaignId?: string;
  price?: number;
  eCPM?: number;
  /** Ads: the ads app's own token, to echo in ads.events impression/click (billing). */
  adToken?: string;
  trackingToken: string;
}

export interface FeedResponse {
  requestId: string;
  userId: string;
  surface: string;
  domain: string;
  items: FeedItem[];
  variants: Record<string, string>;
  overrides: Record<string, unknown>;
  degraded: FeedStage[];
  degradedReasons: Partial<Record<FeedStage, StageFailure>>;
  coverage: number;
  source: 'retrieval' | 'popular';
  slatePolicy: string;
  adLoad?: { decisionId: string; policyId: string; adSlots: number; positions: number[]; propensity: number; filled: number };
  versions: { rankingModel?: string; rankingModelVersion?: string; slatePolicy?: string; adLoadPolicy?: string };
  timingsMs: Partial<Record<FeedStage | 'total', number>>;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
/** One decision record in this many is validated against the contract before it is published (see publishRecord). */
const RECORD_CHECK_EVERY = 1000;
const seenKey = (userId: string) => `${stateKeys.userTag(userId)}:gw:seen`;
const sessionKey = (userId: string) => `${stateKeys.userTag(userId)}:gw:session`;

/**
 * One feed fetch: experiment assignment -> retrieval -> ranking -> slates, with the ad-load
 * decision and the ad fill running beside ranking and slates (they only need the user and the
 * session), then the merged page and its decision record on feed.impressions.
 *
 * Every stage has a deadline (never more than what is left of the fetch's total budget) and a
 * fallback, so a fetch always answers 200: retrieval late -> popular items from recent
 * impressions; ranking down -> retrieval scores; slates down -> ranked order; ad-load or ads down
 * -> no ads; experiments down -> defaults (no variants); history down -> only the gateway's own
 * seen list is excluded.
 */
export class FeedService {
  constructor(
    private readonly ctx: AppContext,
    private readonly config: GatewayConfig,
    private readonly stages: StageClients,
    private readonly catalog: CatalogView,
    private readonly popular: PopularItems,
    private readonly tokens: TrackingTokens,
    private readonly metrics: FeedMetrics,
  ) {}

  async feed(req: FeedRequest): Promise<FeedResponse> {
    const t0 = performance.now();
    const surfaceGroups = this.config.surfaces[req.surface];
    if (surfaceGroups === undefined) {
      throw new DomainError('unknown_surface', 422, `unknown surface '${req.surface}'`, { surfaces: Object.keys(this.config.surfaces) });
    }
    const allowedGroups = surfaceGroups ? new Set(surfaceGroups) : null;
    const requestId = randomUUID();
    const degraded = new Map<FeedStage, StageFailure>();
    const timings: Partial<Record<FeedStage | 'total', number>> = {};
    const deadlineAt = t0 + this.config.totalDeadlineMs;
    const budget = (stage: FeedStage) => Math.max(0, Math.min(this.config.deadlines[stage], Math.floor(deadlineAt - performance.now())));

    /** Runs a stage with its deadline; a failure records the degraded flag and yields undefined. */
    const run = async <T>(stage: FeedStage, fn: (deadlineMs: number) => Promise<T>): Promise<T | undefined> => {
      const s = performance.now();
      try {
        const v = await fn(budget(stage));
        this.metrics.stage(stage, 'ok', performance.now() - s);
        return v;
      } catch (e) {
        const reason: StageFailure = e instanceof StageError ? e.reason : 'bad_response';
        degraded.set(stage, reason);
        this.metrics.stage(stage, 'fallback', performance.now() - s, reason);
        if (!(e instanceof StageError)) this.ctx.log.warn({ err: e, stage }, 'feed stage failed');
        return undefined;
      } finally {
        timings[stage] = round(performance.now() - s);
      }
    };

    // 1. Gateway state (seen list, session fetch index), recent history, experiment assignment.
    const state = this.ctx.infra.state;
    const [seen, sessionFetchIndex, history, assignments] = await Promise.all([
      this.config.seenCap > 0 ? state.listRange(seenKey(req.userId), 0, this.config.seenCap - 1).then((l) => l.map((b) => b.toString('utf8'))) : Promise.resolve([]),
      state
        .transaction()
        .incrBy(sessionKey(req.userId), 1)
        .expire(sessionKey(req.userId), this.config.sessionGapMs)
        .exec()
        .then((r) => Number(r[0]) - 1),
      run('history', (d) => this.stages.recentHistory(req.userId, 200, d)),
      run('experiments', (d) => this.stages.assign(req.userId, { surface: req.surface, domain: req.domain }, d)),
    ]);
    const { variants, overrides } = mergeAssignments(assignments);
    // Override keys the feed reads (either spelling): feed.limit|limit, retrieval.k|retrievalK,
    // slates.policy|slatePolicy, adload.policy|adLoadPolicy.
    const pick = (...keys: string[]) => keys.map((k) => overrides[k]).find((v) => v !== undefined && v !== null);
    const limit = clampInt(pick('feed.limit', 'limit'), 1, 100) ?? req.limit;
    const k = clampInt(pick('retrieval.k', 'retrievalK'), 1, 1000) ?? this.config.candidates;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const slatePolicyOverride = str(pick('slates.policy', 'slatePolicy'));
    const adloadPolicyOverride = str(pick('adload.policy', 'adLoadPolicy'));
    const excluded = new Set<string>([...seen, ...(history ?? []), ...req.exclude]);

    // 2. Ad-load decision and ad fill: beside the organic path.
    const adsPath = (async () => {
      // requestId: the ad-load decision log joins feed.feedback and ads.events on it. A variant's
      // ad-load policy (adload.policy) decides instead of the surface's live policy.
      const decision = await run('adload', (d) =>
        this.stages.adload(
          { userId: req.userId, surface: req.surface, sessionFetchIndex, requestId, context: { hour: new Date().getUTCHours() }, ...(adloadPolicyOverride ? { policyId: adloadPolicyOverride } : {}) },
          d,
        ),
      );
      if (!decision || decision.adSlots === 0 || decision.positions.length === 0) return { decision, fills: [] as AdFill[] };
      const positions = [...new Set(decision.positions)].slice(0, decision.adSlots).sort((a, b) => a - b);
      // requestId in the context: the ads app remembers the fill under it, so a feed.feedback click
      // (requestId, itemId = adId) bills the right reservation.
      const fills = await run('ads', (d) =>
        this.stages.fillAds({ userId: req.userId, surface: req.surface, positions, context: { requestId, ...(surfaceGroups ? { itemGroups: surfaceGroups } : {}) } }, d),
      );
      return { decision, fills: fills ?? [] };
    })();

    // 3. Retrieval (or popular items), filtered to what may be shown.
    const allowed = (id: string) => !excluded.has(id) && this.catalog.allowed(id, allowedGroups);
    const retrieved = await run('retrieval', (d) => this.stages.candidates({ userId: req.userId, k, groups: surfaceGroups ?? undefined, excludeIds: [...excluded] }, d));
    let source: 'retrieval' | 'popular' = 'retrieval';
    let candidates: { itemId: string; retrievalScore?: number }[];
    if (retrieved && retrieved.length > 0) {
      candidates = retrieved.filter((c) => allowed(c.itemId)).map((c) => ({ itemId: c.itemId, retrievalScore: c.score }));
    } else {
      source = 'popular';
      candidates = this.popularCandidates(k, allowed, allowedGroups, excluded);
    }
    candidates = dedupe(candidates);

    // 4. Ranking (or retrieval order).
    let rankingModel: string | undefined;
    let rankingModelVersion: string | undefined;
    let ranked: { itemId: string; score: number; retrievalScore?: number }[];
    const rankedResult =
      candidates.length > 0
        ? await run('ranking', (d) => this.stages.rank({ userId: req.userId, domain: req.domain, candidates: candidates.map((c) => c.itemId), context: { surface: req.surface } }, d))
        : undefined;
    const retrievalScore = new Map(candidates.map((c) => [c.itemId, c.retrievalScore]));
    if (rankedResult) {
      rankingModel = rankedResult.model;
      rankingModelVersion = rankedResult.modelVersion;
      ranked = rankedResult.items.filter((r) => retrievalScore.has(r.itemId)).map((r) => ({ itemId: r.itemId, score: r.pctr, retrievalScore: retrievalScore.get(r.itemId) }));
      ranked = dedupe(ranked);
      // Anything ranking left out keeps its retrieval order behind the ranked ones.
      const have = new Set(ranked.map((r) => r.itemId));
      for (const c of candidates) if (!have.has(c.itemId)) ranked.push({ itemId: c.itemId, score: Number.NEGATIVE_INFINITY, retrievalScore: c.retrievalScore });
    } else {
      // Retrieval order; popular items have no score (NaN: not shown, not sent as a slate score).
      ranked = candidates.map((c) => ({ itemId: c.itemId, score: c.retrievalScore ?? Number.NaN, retrievalScore: c.retrievalScore }));
    }

    // 5. Slate (or ranked order).
    const pool = ranked.slice(0, Math.max(limit, this.config.slatePool));
    const poolIds = new Set(pool.map((r) => r.itemId));
    const groupOf = (id: string) => this.catalog.groups.get(id) ?? undefined;
    let slate: SlateResult | undefined;
    if (pool.length > 0) {
      slate = await run('slates', (d) =>
        this.stages.slate(
          {
            userId: req.userId,
            size: Math.min(limit, pool.length),
            // Slates reads scores as click probabilities in [0, 1]: pCTR when ranking served, else a
            // rank-based stand-in (retrieval similarities are not probabilities).
            candidates: pool.map((r, i) => ({
              itemId: r.itemId,
              score: rankedResult && Number.isFinite(r.score) ? Math.min(1, Math.max(0, r.score)) : round(0.05 + 0.9 * (1 - i / pool.length)),
              ...(groupOf(r.itemId) ? { group: groupOf(r.itemId) } : {}),
            })),
            ...(slatePolicyOverride ? { policy: slatePolicyOverride } : {}),
          },
          d,
        ),
      );
    }
    const scoreOf = new Map(ranked.map((r) => [r.itemId, r.score]));
    let organic: { itemId: string; propensity: number; sampledScore?: number }[];
    let slatePolicy = 'ranked-order';
    if (slate) {
      slatePolicy = slate.policyId;
      // Never trust a stage to respect the filters: only pool items, each once.
      organic = dedupe([...slate.slate].sort((a, b) => a.position - b.position).filter((s) => poolIds.has(s.itemId))).map((s) => ({
        itemId: s.itemId,
        propensity: Math.min(1, Math.max(1e-6, s.propensity)),
        sampledScore: s.sampledScore,
      }));
      const have = new Set(organic.map((o) => o.itemId));
      for (const r of pool) {
        if (organic.length >= limit) break;
        if (!have.has(r.itemId)) organic.push({ itemId: r.itemId, propensity: 1 });
      }
      organic = organic.slice(0, limit);
    } else {
      organic = pool.slice(0, limit).map((r) => ({ itemId: r.itemId, propensity: 1 }));
    }

    // 6. Ads, merged at their positions.
    const { decision, fills } = await adsPath;
    const organicIds = new Set(organic.map((o) => o.itemId));
    const usedPositions = new Set<number>();
    const ads = fills
      .filter((a) => !this.catalog.pausedCampaigns.has(a.campaignId) && !organicIds.has(a.itemId ?? a.adId))
      .filter((a) => (usedPositions.has(a.position) ? false : (usedPositions.add(a.position), true)))
      .sort((a, b) => a.position - b.position);
    const page: FeedItem[] = [];
    const tokenBase = { r: requestId, u: req.userId, v: variants, t: Date.now() };
    let oi = 0;
    let ai = 0;
    while (oi < organic.length || ai < ads.length) {
      const pos = page.length;
      if (ai < ads.length && (ads[ai].position <= pos || oi >= organic.length)) {
        const a = ads[ai++];
        const propensity = decision?.propensity ?? 1;
        const itemId = a.itemId ?? a.adId;
        page.push({
          itemId,
          position: pos,
          isAd: true,
          adId: a.adId,
          campaignId: a.campaignId,
          price: a.price,
          eCPM: a.eCPM ?? a.ecpm,
          ...((a.token ?? a.trackingToken) ? { adToken: a.token ?? a.trackingToken } : {}),
          propensity,
          trackingToken: this.tokens.sign({ ...tokenBase, i: itemId, p: pos, q: propensity, a: true, ad: a.adId, c: a.campaignId }),
        });
      } else {
        const o = organic[oi++];
        const score = scoreOf.get(o.itemId);
        page.push({
          itemId: o.itemId,
          position: pos,
          isAd: false,
          ...(score !== undefined && Number.isFinite(score) ? { score } : {}),
          propensity: o.propensity,
          ...(groupOf(o.itemId) ? { group: groupOf(o.itemId) } : {}),
          trackingToken: this.tokens.sign({ ...tokenBase, i: o.itemId, p: pos, q: o.propensity, a: false }),
        });
      }
    }

    // 7. Coverage, the decision record, state updates.
    const planned: FeedStage[] = ['experiments', 'history', 'retrieval', 'ranking', 'slates', 'adload'];
    if (decision && decision.adSlots > 0) planned.push('ads');
    const degradedList = planned.filter((s) => degraded.has(s));
    const coverage = round((planned.length - degradedList.length) / planned.length);
    timings.total = round(performance.now() - t0);
    const response: FeedResponse = {
      requestId,
      userId: req.userId,
      surface: req.surface,
      domain: req.domain,
      items: page,
      variants,
      overrides,
      degraded: degradedList,
      degradedReasons: Object.fromEntries(degradedList.map((s) => [s, degraded.get(s)!])),
      coverage,
      source,
      slatePolicy,
      ...(decision ? { adLoad: adLoadOf(decision, ads.length) } : {}),
      versions: { rankingModel, rankingModelVersion, slatePolicy, adLoadPolicy: decision ? policyWithVersion(decision) : undefined },
      timingsMs: timings,
    };
    this.metrics.feed(timings.total, degradedList);
    this.afterResponse(req, response, candidates, ranked, slate, sessionFetchIndex);
    return response;
  }

  private popularCandidates(k: number, allowed: (id: string) => boolean, groups: ReadonlySet<string> | null, excluded: ReadonlySet<string>) {
    const popular = this.popular
      .top(Math.min(5000, k * 4))
      .filter(allowed)
      .slice(0, k);
    if (popular.length < k) {
      const have = new Set([...popular, ...excluded]);
      for (const id of this.catalog.anyItems(groups, k - popular.length, have)) popular.push(id);
    }
    return popular.map((itemId) => ({ itemId }));
  }

  /** The decision record on feed.impressions and the gateway's own state; off the response path. */
  private afterResponse(
    req: FeedRequest,
    res: FeedResponse,
    candidates: { itemId: string; retrievalScore?: number }[],
    ranked: { itemId: string; score: number; retrievalScore?: number }[],
    slate: SlateResult | undefined,
    sessionFetchIndex: number,
  ) {
    const slateScore = new Map((slate?.slate ?? []).map((s) => [s.itemId, s.sampledScore]));
    const event: FeedImpressionEvent = {
      eventId: res.requestId,
      key: req.userId,
      timestamp: Date.now(),
      schemaVersion: 1,
      recordVersion: 2,
      requestId: res.requestId,
      userId: req.userId,
      surface: req.surface,
      domain: req.domain,
      items: res.items.map((i) => ({
        itemId: i.itemId,
        position: i.position,
        isAd: i.isAd,
        ...(i.adId ? { adId: i.adId, campaignId: i.campaignId, price: i.price, eCPM: i.eCPM } : {}),
        ...(i.score !== undefined ? { score: i.score } : {}),
        propensity: i.propensity,
        ...(i.group ? { group: i.group } : {}),
        ...(slateScore.get(i.itemId) !== undefined ? { sampledScore: slateScore.get(i.itemId) } : {}),
      })),
      variants: res.variants,
      ...(res.adLoad
        ? {
            adLoad: {
              policyId: res.adLoad.policyId,
              adSlots: res.adLoad.adSlots,
              propensity: res.adLoad.propensity,
              decisionId: res.adLoad.decisionId,
              positions: res.adLoad.positions,
              filled: res.adLoad.filled,
              sessionFetchIndex,
            },
          }
        : {}),
      // The candidates best first (ranked order; retrieval order when ranking degraded), the first
      // GATEWAY_RECORD_CANDIDATES (default the slate pool: what the slate policy chose from). Each
      // candidate is bytes every consumer parses and validates, so the 500 retrieved are not all
      // kept by default. Scores to 1e-6; the catalog group, which readers have from catalog.items,
      // is left out.
      candidates: candidateRecords(ranked, this.config.recordCandidates, !res.degraded.includes('ranking') && candidates.length > 0),
      ...(slate ? { slate: { requestId: slate.requestId, policyId: slate.policyId, size: slate.slate.length } } : {}),
      versions: {
        ...(res.versions.rankingModel ? { rankingModel: res.versions.rankingModel } : {}),
        ...(res.versions.rankingModelVersion ? { rankingModelVersion: res.versions.rankingModelVersion } : {}),
        slatePolicy: res.slatePolicy,
        ...(res.versions.adLoadPolicy ? { adLoadPolicy: res.versions.adLoadPolicy } : {}),
      },
      degraded: res.degraded,
      coverage: res.coverage,
      source: res.source,
    };
    const shown = res.items.map((i) => i.itemId);
    for (const id of shown) this.popular.record(id, 1);
    const work = [
      this.publishRecord(event).catch((e) => {
        this.metrics.publishFailed();
        this.ctx.log.error({ err: e, requestId: res.requestId }, 'feed.impressions publish failed');
      }),
      this.config.seenCap > 0 && shown.length > 0
        ? this.ctx.infra.state.listPushCapped(seenKey(req.userId), shown, this.config.seenCap).catch((e) => this.ctx.log.warn({ err: e }, 'seen list update failed'))
        : Promise.resolve(),
    ];
    const p = Promise.all(work).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private readonly pending = new Set<Promise<unknown>>();
  private published = 0;

  /**
   * The decision record onto feed.impressions. The gateway builds it from typed values (the
   * contract's TypeScript type), so it is checked against the zod schema on a sample (the first
   * records, then one in RECORD_CHECK_EVERY) rather than on every fetch: with 500 candidates the
   * full validation is a large part of a fetch's CPU, and every consumer validates it again anyway
   * (an invalid record would be dead-lettered there, never dropped). A sampled record that fails
   * is not published and is logged.
   */
  private async publishRecord(event: FeedImpressionEvent): Promise<void> {
    const n = this.published++;
    if (n < 20 || n % RECORD_CHECK_EVERY === 0) validateEvent(TOPICS.feedImpressions, event);
    await this.ctx.infra.bus.produce(TOPICS.feedImpressions, [{ key: event.key, value: JSON.stringify(event), headers: { 'content-type': 'application/json' } }]);
  }

  /** Waits for the impressions and state writes still in flight (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** A click or view reported through the collector: counts for popularity, and a seen item stays excluded. */
  async recordInteraction(userId: string, itemId: string, type: string): Promise<void> {
    this.popular.record(itemId, type === 'click' ? 5 : 1);
    if (this.config.seenCap > 0) await this.ctx.infra.state.listPushCapped(seenKey(userId), [itemId], this.config.seenCap);
  }
}

function mergeAssignments(a: Assignments | undefined) {
  const variants: Record<string, string> = {};
  const overrides: Record<string, unknown> = { ...(a?.config ?? {}) };
  for (const x of a?.assignments ?? []) {
    variants[x.experiment] = x.variant;
    Object.assign(overrides, x.overrides);
  }
  return { variants, overrides };
}

const micro = (x: number) => Math.round(x * 1e6) / 1e6;

function candidateRecords(ranked: { itemId: string; score: number; retrievalScore?: number }[], max: number, withScore: boolean) {
  const n = Math.min(max, ranked.length);
  const out: { itemId: string; retrievalScore?: number; score?: number }[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = ranked[i]!;
    const r: { itemId: string; retrievalScore?: number; score?: number } = { itemId: c.itemId };
    if (c.retrievalScore !== undefined) r.retrievalScore = micro(c.retrievalScore);
    if (withScore && Number.isFinite(c.score)) r.score = micro(c.score);
    out[i] = r;
  }
  return out;
}

function clampInt(v: unknown, min: number, max: number): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

function dedupe<T extends { itemId: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(x.itemId) ? false : (seen.add(x.itemId), true)));
}

/** `policyId@version` when the ad-load app says which version decided. */
function policyWithVersion(d: AdloadDecision): string {
  return d.policyVersion !== undefined ? `${d.policyId}@${d.policyVersion}` : d.policyId;
}

function adLoadOf(d: AdloadDecision, filled: number) {
  return { decisionId: d.decisionId, policyId: d.policyId, adSlots: d.adSlots, positions: d.positions, propensity: d.propensity, filled };
}
