import { randomBytes, randomUUID } from 'node:crypto';
import { PacingController, type PacingOptions, runAuction, tieHash, TrafficProfile, zonedTime, type AuctionBid, type AuctionWinner } from '@recsys/ads';
import { embeddingProblem, TOPICS, type AdEvent } from '@recsys/contracts';
import { isValidTimeZone } from '@recsys/ads';
import { DomainError, type AppContext } from '@recsys/platform';
import { namespaceDims } from '@recsys/platform/namespaces';
import type { CreateCampaignRequest, CreativeRequest, FillRequest, FillResponse, TrackRequest, UpdateCampaignRequest } from './api/dto';
import type { AdsConfig } from './ads.config';
import { amountMicros, BudgetLedger, type SettleResult } from './domain/budget';
import { Campaign, CampaignConflict, CampaignRepository, campaignView, Creative, creativeView, FillRecord, fromMicros } from './domain/campaigns';
import { newReservationId, TokenCodec, type TrackingToken } from './domain/token';
import type { CandidateSource, CtrScorer } from './domain/upstream';

const FILL_KEY = (requestId: string, adId: string) => `ads:fill:${requestId}:${adId}`;
const USER_FREQ_KEY = (userId: string) => `ads:{u:${userId}}:fq`;
const TRAFFIC_KEY = 'ads:traffic';
const TOKEN_KEY = 'ads:token-key';

interface Usage {
  day: string;
  /** Settled + reserved today (the ledger's view; the budget check). */
  used: number;
  totalUsed: number;
  /** What pacing counts as spent: settled, plus reserved for CPM (a CPM win is billed on its impression; a CPC win mostly is not). */
  paced: number;
}

export interface AdsServiceDeps {
  candidates: CandidateSource;
  scorer: CtrScorer;
  /** Clock (ms); the benchmark drives a simulated one. */
  now?: () => number;
  random?: () => number;
}

/** The ads use cases: campaign admin, fills (eligibility, auction, reservations), billing and delivery. */
export class AdsService {
  readonly repo: CampaignRepository;
  readonly ledger: BudgetLedger;
  private readonly campaigns = new Map<string, Campaign>();
  private readonly creativesByCampaign = new Map<string, Creative[]>();
  private readonly campaignOfAd = new Map<string, string>();
  private readonly usage = new Map<string, Usage>();
  private readonly pacing = new Map<string, { day: string; controller: PacingController; allowance: number }>();
  private servable: Campaign[] | null = null;
  /** Ad impressions served, by UTC hour: the traffic profile the target curves follow. */
  readonly profile = new TrafficProfile({ buckets: 24, minObservations: 500 });
  private pendingFills: FillRecord[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private readonly random: () => number;
  private codec: TokenCodec | null = null;
  private readonly pacingOptions: PacingOptions;

  constructor(
    private readonly ctx: AppContext,
    readonly config: AdsConfig,
    private readonly deps: AdsServiceDeps,
  ) {
    this.repo = new CampaignRepository(ctx.infra.sql);
    this.ledger = new BudgetLedger(ctx.infra.state);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.pacingOptions = { gateSlack: config.ADS_PACING_GATE_SLACK };
  }

  /** Signs and verifies tracking tokens (set by start()). */
  get tokens(): TokenCodec {
    if (!this.codec) throw new Error('ads service not started: no token key yet');
    return this.codec;
  }

  /** ADS_TOKEN_SECRET, else the key every replica on this state store shares (created once, SET NX). */
  private async loadTokenKey(): Promise<TokenCodec> {
    if (this.config.ADS_TOKEN_SECRET) return new TokenCodec(this.config.ADS_TOKEN_SECRET);
    const state = this.ctx.infra.state;
    await state.set(TOKEN_KEY, randomBytes(32).toString('base64'), { ifAbsent: true });
    const key = await state.get(TOKEN_KEY);
    if (!key) throw new Error('ads: the token key could not be read back from the state store');
    return new TokenCodec(Buffer.from(key.toString(), 'base64'));
  }

  async start(): Promise<void> {
    this.codec = await this.loadTokenKey();
    await this.ctx.infra.bus.ensureTopics([{ topic: TOPICS.adsEvents }, { topic: TOPICS.catalogItems }]);
    await this.reloadAll();
    await this.loadTraffic();
    await this.controlStep();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((e) => this.ctx.log.error({ err: e }, 'ads background step failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.ADS_PACING_INTERVAL_MS, () => this.controlStep());
    every(250, () => this.flushFills());
    every(60_000, () => this.sweepExpired());
    every(30_000, () => this.reloadAll());
    this.ctx.shutdownHooks.push(async () => {
      for (const t of this.timers) clearInterval(t);
      await this.flushFills();
      await Promise.all([this.deps.candidates.close?.(), this.deps.scorer.close?.()]);
    });
  }

  // ---------- campaign cache ----------

  async reloadAll(): Promise<void> {
    const [cs, crs] = await Promise.all([this.repo.list(), this.repo.creatives()]);
    this.campaigns.clear();
    for (const c of cs) this.campaigns.set(c.id, c);
    this.creativesByCampaign.clear();
    for (const cr of crs) this.indexCreative(cr);
    this.servable = null;
  }

  async reloadCampaign(id: string): Promise<void> {
    const c = await this.repo.get(id);
    this.servable = null;
    if (!c) {
      this.campaigns.delete(id);
      return;
    }
    this.campaigns.set(id, c);
    const crs = await this.repo.creatives(id);
    this.creativesByCampaign.set(id, []);
    for (const cr of crs) this.indexCreative(cr);
  }

  private indexCreative(cr: Creative) {
    if (cr.status !== 'active') return;
    const list = this.creativesByCampaign.get(cr.campaignId) ?? [];
    const i = list.findIndex((x) => x.id === cr.id);
    if (i >= 0) list[i] = cr;
    else list.push(cr);
    this.creativesByCampaign.set(cr.campaignId, list);
    this.campaignOfAd.set(cr.id, cr.campaignId);
    this.servable = null;
  }

  // ---------- admin ----------

  async createCampaign(req: CreateCampaignRequest) {
    checkSchedule(req.timeZone, req.startAt, req.endAt);
    try {
      const c = await this.repo.create(req);
      this.campaigns.set(c.id, c);
      this.servable = null;
      await this.publishCampaign(c, 'campaign_upsert');
      return campaignView(c);
    } catch (e) {
      if (e instanceof CampaignConflict) throw new DomainError('campaign_exists', 409, e.message, { id: req.id });
      throw e;
    }
  }

  listCampaigns() {
    return [...this.campaigns.values()].map(campaignView);
  }

  async getCampaign(id: string) {
    const c = await this.repo.get(id);
    if (!c) throw notFound(id);
    return { ...campaignView(c), creatives: (await this.repo.creatives(id)).map(creativeView) };
  }

  async updateCampaign(id: string, u: UpdateCampaignRequest & { status?: 'active' | 'paused' | 'archived' }, event: AdEvent['type'] = 'campaign_upsert') {
    const cur = await this.repo.get(id);
    if (!cur) throw notFound(id);
    if (cur.status === 'archived') throw new DomainError('campaign_archived', 409, `campaign '${id}' is archived and cannot change`, { id });
    if (Object.keys(u).length === 0) throw new DomainError('nothing_to_update', 422, 'the update names no field');
    checkSchedule(u.timeZone, u.startAt, u.endAt);
    const start = u.startAt === undefined ? cur.startAt : u.startAt === null ? null : Date.parse(u.startAt);
    const end = u.endAt === undefined ? cur.endAt : u.endAt === null ? null : Date.parse(u.endAt);
    if (start !== null && end !== null && end <= start) {
      throw new DomainError('invalid_schedule', 422, 'endAt must be after startAt');
    }
    const c = (await this.repo.update(id, u))!;
    this.campaigns.set(id, c);
    this.servable = null;
    if (c.status === 'archived') {
      const creatives = await this.repo.creatives(id);
      await this.repo.archiveCreatives(id);
      this.creativesByCampaign.delete(id);
      this.servable = null;
      if (creatives.length) {
        await this.ctx.publisher.publish(
          TOPICS.catalogItems,
          creatives.map((cr) => ({ eventId: randomUUID(), key: cr.id, timestamp: Date.now(), schemaVersion: 1 as const, op: 'delete' as const, namespace: 'ads', itemId: cr.id })),
        );
      }
    }
    await this.publishCampaign(c, event);
    return campaignView(c);
  }

  async upsertCreative(campaignId: string, creativeId: string, req: CreativeRequest) {
    const c = await this.repo.get(campaignId);
    if (!c) throw notFound(campaignId);
    if (c.status === 'archived') throw new DomainError('campaign_archived', 409, `campaign '${campaignId}' is archived`, { id: campaignId });
    const bad = embeddingProblem(req.embedding, namespaceDims(this.ctx.config).ads);
    if (bad) throw new DomainError(bad.code, 422, bad.message);
    let r;
    try {
      r = await this.repo.upsertCreative(campaignId, creativeId, req);
    } catch (e) {
      if (e instanceof CampaignConflict) throw new DomainError('creative_conflict', 409, e.message, { creativeId });
      throw e;
    }
    this.indexCreative(r.creative);
    // Retrieval indexes it in namespace `ads`; its group is the campaign, which the fill filters on.
    await this.ctx.publisher.publish(TOPICS.catalogItems, [
      {
        eventId: randomUUID(),
        key: creativeId,
        timestamp: Date.now(),
        schemaVersion: 1,
        op: 'upsert',
        namespace: 'ads',
        itemId: creativeId,
        group: campaignId,
        embedding: req.embedding,
        attributes: { campaignId, bidType: c.bidType },
      },
    ]);
    await this.publishCampaign(c, 'campaign_upsert', creativeId);
    return { created: r.created, creative: creativeView(r.creative) };
  }

  private async publishCampaign(c: Campaign, type: AdEvent['type'], adId = c.id) {
    await this.ctx.publisher.publish(TOPICS.adsEvents, [{ eventId: randomUUID(), key: adId, adId, campaignId: c.id, type, timestamp: Date.now(), schemaVersion: 1 }]);
  }

  // ---------- serving ----------

  /** Active campaigns that have creatives (rebuilt when the cache changes); the fill checks the rest per request. */
  private servableList(): Campaign[] {
    if (!this.servable) {
      this.servable = [];
      for (const c of this.campaigns.values()) if (c.status === 'active' && this.creativesByCampaign.get(c.id)?.length) this.servable.push(c);
    }
    return this.servable;
  }

  /**
   * In flight, targeted at this request, budget left, under its pacing allowance, past the pacing
   * throttle. No state round trip: spend is this replica's view (refreshed every control step,
   * advanced by its own wins and billings); the frequency caps are checked after (see fill).
   */
  private eligible(req: FillRequest, now: number): Campaign[] {
    const segs = req.context?.segments;
    const groups = req.context?.itemGroups;
    const pacing = this.config.ADS_PACING === 'on';
    const out: Campaign[] = [];
    for (const c of this.servableList()) {
      if ((c.startAt !== null && now < c.startAt) || (c.endAt !== null && now >= c.endAt)) continue;
      const t = c.targeting;
      if (t.surfaces?.length && !t.surfaces.includes(req.surface)) continue;
      if (t.segments?.length && !(segs ?? []).some((s) => t.segments!.includes(s))) continue;
      if (t.itemGroups?.length && !(groups ?? []).some((g) => t.itemGroups!.includes(g))) continue;
      const u = this.usage.get(c.id);
      if (u && (u.used >= c.dailyBudgetMicros || (c.totalBudgetMicros !== null && u.totalUsed >= c.totalBudgetMicros))) continue;
      if (pacing) {
        const p = this.pacing.get(c.id);
        if (p) {
          if (u && u.paced >= p.allowance) continue;
          const rate = p.controller.rate;
          if (rate < 1 && this.random() >= rate) continue;
        }
      }
      out.push(c);
    }
    return out;
  }

  /** The user's frequency-cap mirror (one read); the atomic check is in the reservation script. */
  private async capped(userId: string, eligible: Campaign[], now: number): Promise<Set<string>> {
    const out = new Set<string>();
    if (!eligible.some((c) => c.frequencyCap !== null)) return out;
    const seen = await this.ctx.infra.state.hgetall(USER_FREQ_KEY(userId));
    for (const c of eligible) {
      if (c.frequencyCap === null) continue;
      const n = seen[`${c.id}|${zonedTime(now, c.timeZone).day}`];
      if (n && Number(n.toString()) >= c.frequencyCap) out.add(c.id);
    }
    return out;
  }

  async fill(req: FillRequest): Promise<FillResponse> {
    if (new Set(req.positions).size !== req.positions.length) throw new DomainError('duplicate_positions', 422, 'positions must be distinct');
    const now = this.now();
    const requestId = req.context?.requestId ?? randomUUID();
    const degraded: ('retrieval' | 'ranking')[] = [];
    const eligible = this.eligible(req, now);
    if (eligible.length === 0) return { requestId, ads: [], degraded };
    const byId = new Map<string, Campaign>();
    for (const c of eligible) byId.set(c.id, c);
    const k = this.config.ADS_CANDIDATES;
    // The cap mirror is read while retrieval searches.
    const cappedP = this.capped(req.userId, eligible, now);
    cappedP.catch(() => undefined);

    let adIds: string[];
    try {
      // A selective eligibility is pushed into the index search (a creative's group is its campaign);
      // when most campaigns are eligible, an unfiltered search for a few more is cheaper (the group
      // filter makes small indexes scan exactly) and the ineligible ones are dropped here.
      const share = eligible.length / this.servableList().length;
      const cands =
        share >= 0.5 ? await this.deps.candidates.candidates(req.userId, Math.min(1000, Math.ceil(k / share)), null) : await this.deps.candidates.candidates(req.userId, k, [...byId.keys()]);
      adIds = [];
      for (const x of cands) {
        if (byId.has(this.campaignOfAd.get(x.adId) ?? '')) adIds.push(x.adId);
        if (adIds.length === k) break;
      }
    } catch (e) {
      degraded.push('retrieval');
      this.ctx.log.debug({ err: e }, 'ads: retrieval unavailable, all eligible ads compete');
      adIds = [];
      for (const c of eligible) for (const cr of this.creativesByCampaign.get(c.id) ?? []) adIds.push(cr.id);
      if (adIds.length > k) adIds = adIds.sort((a, b) => tieHash(a, tieHash(requestId)) - tieHash(b, tieHash(requestId))).slice(0, k);
    }
    const capped = await cappedP;
    if (capped.size) adIds = adIds.filter((id) => !capped.has(this.campaignOfAd.get(id)!));
    if (adIds.length === 0) return { requestId, ads: [], degraded };

    let pctrs: Map<string, number> | null = null;
    try {
      pctrs = await this.deps.scorer.score(req.userId, adIds, req.context);
    } catch (e) {
      degraded.push('ranking');
      this.ctx.log.debug({ err: e }, 'ads: ranking unavailable, campaign priors used');
    }
    let bids: AuctionBid[] = adIds.map((adId) => {
      const c = byId.get(this.campaignOfAd.get(adId)!)!;
      const p = pctrs?.get(adId);
      return { adId, campaignId: c.id, bidType: c.bidType, bid: fromMicros(c.bidMicros), pctr: p !== undefined && Number.isFinite(p) ? p : c.priorCtr };
    });

    const seed = tieHash(requestId);
    const auction = { slots: req.positions.length, reserveEcpm: this.config.ADS_RESERVE_ECPM, mechanism: this.config.ADS_AUCTION, tieSeed: seed };
    const held = new Map<string, { token: TrackingToken; amount: number }>();
    let winners: AuctionWinner[] = [];
    for (let round = 0; round < 4; round++) {
      winners = runAuction(bids, auction);
      const refused = new Set<string>();
      await Promise.all(
        winners.map(async (w) => {
          const amount = amountMicros(w);
          const h = held.get(w.adId);
          if (h && h.amount === amount) return;
          if (h) await this.ledger.release(w.campaignId, h.token.d, h.token.r);
          const c = byId.get(w.campaignId)!;
          const day = zonedTime(now, c.timeZone).day;
          const token: TrackingToken = { c: c.id, a: w.adId, d: day, b: c.bidType, r: newReservationId() };
          const r = await this.ledger.reserve({
            campaignId: c.id,
            day,
            token: token.r,
            amountMicros: amount,
            dailyBudgetMicros: c.dailyBudgetMicros,
            totalBudgetMicros: c.totalBudgetMicros,
            userId: req.userId,
            frequencyCap: c.frequencyCap,
            expiresAt: now + (c.bidType === 'cpc' ? this.config.ADS_CLICK_WINDOW_MS : this.config.ADS_RESERVATION_TTL_MS),
            now,
          });
          const u = this.usage.get(c.id);
          if (r === 'reserved') {
            held.set(w.adId, { token, amount });
            // this replica's view advances with its own wins until the next control step refreshes it
            if (u && u.day === day) {
              u.used += amount;
              u.totalUsed += amount;
              if (c.bidType === 'cpm') u.paced += amount;
            }
          } else {
            held.delete(w.adId);
            refused.add(w.campaignId);
            if (r === 'budget') this.usage.set(c.id, { day, used: c.dailyBudgetMicros, totalUsed: u?.totalUsed ?? 0, paced: u?.paced ?? 0 });
          }
        }),
      );
      if (refused.size === 0) break;
      bids = bids.filter((b) => !refused.has(b.campaignId));
      if (round === 3) winners = winners.filter((w) => held.has(w.adId));
    }
    // Wins that dropped out of the final auction (cannot happen with GSP; a safety net) give their money back.
    const final = new Set(winners.map((w) => w.adId));
    await Promise.all([...held].filter(([adId]) => !final.has(adId)).map(([, h]) => this.ledger.release(h.token.c, h.token.d, h.token.r)));

    const ads = winners
      .filter((w) => held.has(w.adId))
      .map((w) => {
        const h = held.get(w.adId)!;
        return {
          adId: w.adId,
          campaignId: w.campaignId,
          position: req.positions[w.slot],
          slot: w.slot,
          bidType: w.bidType,
          price: w.price,
          ecpm: w.ecpm,
          priceEcpm: w.priceEcpm,
          pctr: w.pctr,
          token: this.tokens.encode(h.token),
        };
      });
    if (ads.length) this.afterFill(req, requestId, ads, now);
    return { requestId, ads, degraded };
  }

  /** Off the response path: fill records (SQL, batched), the feedback look-up keys, user caps, traffic. */
  private afterFill(req: FillRequest, requestId: string, ads: FillResponse['ads'], now: number) {
    const p = this.ctx.infra.state.pipeline();
    for (const a of ads) {
      p.set(FILL_KEY(requestId, a.adId), a.token, { ttlMs: Math.max(this.config.ADS_RESERVATION_TTL_MS, this.config.ADS_CLICK_WINDOW_MS) });
      const c = this.campaigns.get(a.campaignId);
      if (c?.frequencyCap) p.hincrBy(USER_FREQ_KEY(req.userId), `${c.id}|${zonedTime(now, c.timeZone).day}`, 1);
      this.pendingFills.push({
        requestId,
        adId: a.adId,
        campaignId: a.campaignId,
        userId: req.userId,
        surface: req.surface,
        position: a.position,
        slot: a.slot,
        bidType: a.bidType,
        priceMicros: Math.round(a.price * 1e6),
        ecpm: a.ecpm,
        pctr: a.pctr,
        token: a.token,
        at: now,
      });
    }
    p.expire(USER_FREQ_KEY(req.userId), 2 * 24 * 3600 * 1000);
    const utc = zonedTime(now, 'UTC');
    p.hincrBy(TRAFFIC_KEY, `${utc.day}:${String(utc.hour).padStart(2, '0')}`, ads.length);
    this.profile.observe(utc.day, utc.dayFraction, ads.length);
    void p.exec().catch((e) => this.ctx.log.warn({ err: e }, 'ads: after-fill writes failed'));
    if (this.pendingFills.length >= 500) void this.flushFills();
  }

  async flushFills(): Promise<void> {
    while (this.pendingFills.length) {
      const batch = this.pendingFills.splice(0, 500);
      try {
        await this.repo.recordFills(batch);
      } catch (e) {
        this.ctx.log.error({ err: e, dropped: batch.length }, 'ads: fill records not written');
      }
    }
  }

  // ---------- billing ----------

  /** The tracking endpoint: the event goes to ads.events, whose consumer bills it. */
  async track(req: TrackRequest) {
    const t = this.tokens.decode(req.token);
    if (!t) throw new DomainError('invalid_token', 422, 'the tracking token is not one this service issued (bad signature or form)');
    const eventId = req.eventId ?? `${req.type}:${t.r}`;
    await this.ctx.publisher.publish(TOPICS.adsEvents, [{ eventId, key: t.a, adId: t.a, campaignId: t.c, type: req.type, token: req.token, timestamp: this.now(), schemaVersion: 1 }]);
    return { eventId, accepted: true };
  }

  /** Applies a delivery event once (by event id, atomically with its effect). */
  async applyDelivery(token: TrackingToken, type: 'impression' | 'click' | 'conversion', eventId: string, at: number): Promise<SettleResult> {
    const c = this.campaigns.get(token.c);
    const hour = zonedTime(at, c?.timeZone ?? 'UTC').hour;
    const bill = (token.b === 'cpm' && type === 'impression') || (token.b === 'cpc' && type === 'click');
    const r = await this.ledger.settle({
      campaignId: token.c,
      day: token.d,
      token: token.r,
      eventId,
      bill,
      impression: type === 'impression',
      click: type === 'click',
      conversion: type === 'conversion',
      hour,
    });
    // a CPC click adds to the spend pacing counts (a CPM impression's amount was counted at the win)
    const u = this.usage.get(token.c);
    if (r.status === 'billed' && token.b === 'cpc' && u && u.day === token.d) u.paced += r.micros;
    return r;
  }

  /** feed.feedback click on an ad of a fill -> the fill's token. */
  async tokenOfFill(requestId: string, adId: string): Promise<string | null> {
    return (await this.ctx.infra.state.get(FILL_KEY(requestId, adId)))?.toString() ?? null;
  }

  // ---------- pacing ----------

  /** Shares of the campaign's local day: the UTC-hour profile rotated by the zone's offset. */
  private localShares(c: Campaign, now: number, shares = this.profile.shares()): number[] {
    const offset = (zonedTime(now, c.timeZone).hour - zonedTime(now, 'UTC').hour + 24) % 24;
    return Array.from({ length: 24 }, (_, h) => shares[(h - offset + 24) % 24]);
  }

  private targetFraction(c: Campaign, now: number, shares: number[]): number {
    const local = this.localShares(c, now, shares);
    const t = zonedTime(now, c.timeZone).dayFraction;
    const x = t * 24;
    const h = Math.floor(x);
    let F = 0;
    for (let i = 0; i < h; i++) F += local[i];
    return Math.min(1, F + local[h] * (x - h));
  }

  /** One control step: usage of every active campaign, then its controller. */
  async controlStep(): Promise<void> {
    const now = this.now();
    const active = [...this.campaigns.values()].filter((c) => c.status === 'active');
    const days = active.map((c) => ({ campaignId: c.id, day: zonedTime(now, c.timeZone).day }));
    const usage = await this.ledger.usage(days);
    const shares = this.profile.shares();
    active.forEach((c, i) => {
      const u = usage[i];
      const day = days[i].day;
      this.usage.set(c.id, { day, used: u.spent + u.reserved, totalUsed: u.totalSpent + u.totalReserved, paced: c.bidType === 'cpm' ? u.spent + u.reserved : u.spent });
      let p = this.pacing.get(c.id);
      if (!p) {
        p = { day, controller: new PacingController(this.pacingOptions), allowance: Infinity };
        this.pacing.set(c.id, p);
      } else if (p.day !== day) {
        p.controller.resetDay();
        p.day = day;
      }
      const budget = c.totalBudgetMicros === null ? c.dailyBudgetMicros : Math.min(c.dailyBudgetMicros, u.spent + Math.max(0, c.totalBudgetMicros - u.totalSpent));
      // Paced on settled spend: most CPC reservations expire unbilled, so counting them would underspend.
      p.controller.update({ targetFraction: this.targetFraction(c, now, shares), spent: u.spent, budget });
      // the spend gate until the next step: the target at its end plus slack (at least one billing event)
      const nextF = this.targetFraction(c, now + this.config.ADS_PACING_INTERVAL_MS, shares);
      p.allowance = p.controller.allowance(nextF < this.targetFraction(c, now, shares) ? 1 : nextF, budget, c.bidType === 'cpc' ? c.bidMicros : c.bidMicros / 1000);
    });
  }

  async sweepExpired(): Promise<void> {
    const now = this.now();
    for (const c of this.campaigns.values()) {
      if (c.status === 'archived') continue;
      await this.ledger.sweep(c.id, zonedTime(now, c.timeZone).day, now);
    }
  }

  private async loadTraffic(): Promise<void> {
    const h = await this.ctx.infra.state.hgetall(TRAFFIC_KEY);
    const rows = Object.entries(h)
      .map(([k, v]) => ({ day: k.slice(0, 10), hour: Number(k.slice(11)), n: Number(v.toString()) }))
      .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.hour - b.hour));
    const days = [...new Set(rows.map((r) => r.day))].slice(-8);
    for (const r of rows) if (days.includes(r.day)) this.profile.observe(r.day, (r.hour + 0.5) / 24, r.n);
  }

  // ---------- delivery ----------

  async delivery(id: string, day?: string) {
    const c = this.campaigns.get(id) ?? (await this.repo.get(id));
    if (!c) throw notFound(id);
    const now = this.now();
    const d = day ?? zonedTime(now, c.timeZone).day;
    const s = await this.ledger.day(id, d);
    const local = this.localShares(c, now);
    const budget = fromMicros(c.dailyBudgetMicros);
    let cumS = 0;
    let cumT = 0;
    const hours = local.map((share, h) => {
      const spend = fromMicros(s.hourly.spend[h]);
      const imps = s.hourly.imps[h];
      const clicks = s.hourly.clicks[h];
      const conversions = s.hourly.conversions[h];
      cumS += spend;
      cumT += budget * share;
      return {
        hour: h,
        spend,
        targetSpend: budget * share,
        cumulativeSpend: cumS,
        cumulativeTarget: cumT,
        impressions: imps,
        clicks,
        ctr: imps ? clicks / imps : null,
        conversions,
        effectiveCpm: imps ? (spend / imps) * 1000 : null,
      };
    });
    return {
      campaignId: id,
      day: d,
      timeZone: c.timeZone,
      dailyBudget: budget,
      spent: fromMicros(s.spent),
      reserved: fromMicros(s.reserved),
      impressions: s.imps,
      clicks: s.clicks,
      ctr: s.imps ? s.clicks / s.imps : null,
      conversions: s.conversions,
      conversionRate: s.clicks ? s.conversions / s.clicks : null,
      costPerConversion: s.conversions ? fromMicros(s.spent) / s.conversions : null,
      effectiveCpm: s.imps ? (fromMicros(s.spent) / s.imps) * 1000 : null,
      lateBillingEvents: s.late,
      pacingRate: this.pacing.get(id)?.controller.rate ?? null,
      hours,
    };
  }
}

function notFound(id: string) {
  return new DomainError('campaign_not_found', 404, `no campaign '${id}'`, { id });
}

/** Schedule rules JSON Schema cannot state, answered with their own codes. */
function checkSchedule(timeZone: string | undefined, startAt?: string | null, endAt?: string | null): void {
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) throw new DomainError('unknown_time_zone', 422, `'${timeZone}' is not an IANA time zone`);
  for (const t of [startAt, endAt]) {
    // ISO 8601 allows any hh:mm offset; real zones (and PostgreSQL's timestamptz) stay within +-14:00.
    const off = t ? /([+-])(\d{2}):(\d{2})$/.exec(t) : null;
    if (off && Number(off[2]) * 60 + Number(off[3]) > 14 * 60) throw new DomainError('invalid_schedule', 422, `'${t}' has a UTC offset beyond +-14:00`);
  }
  if (startAt && endAt && Date.parse(endAt) <= Date.parse(startAt)) throw new DomainError('invalid_schedule', 422, 'endAt must be after startAt');
}
