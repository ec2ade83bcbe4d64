import { z } from 'zod';
import {
  ADLOAD_DECIDE,
  ADS_FILL,
  BEHAVIOR_HISTORY,
  EXPERIMENTS_ASSIGN,
  RANKING_RANK,
  RETRIEVAL_CANDIDATES,
  SLATES_SLATE,
  type FeedStage,
  type LocalAdsFill,
  type LocalAssign,
  type LocalCandidates,
  type LocalDecide,
  type LocalHistory,
  type LocalRank,
  type LocalSlate,
} from '@recsys/contracts';
import { DomainError, type LocalDirectory } from '@recsys/platform';
import { CircuitBreaker, type BreakerState } from './breaker';
import { HttpStage, StageError } from './http-stage';
import type { GatewayConfig, StageApp } from '../gateway.config';

/* What the gateway reads of each stage's answer (extra fields are ignored: stages may add to them). */
const assignmentsResponse = z.object({
  assignments: z.array(z.object({ experiment: z.string(), variant: z.string(), overrides: z.record(z.string(), z.unknown()).default({}) })),
  /** apps/experiments: shipped defaults overlaid by the assigned variants' overrides. */
  config: z.record(z.string(), z.unknown()).optional(),
});
const candidatesResponse = z.array(z.object({ itemId: z.string(), score: z.number() }));
const historyResponse = z.object({ items: z.array(z.object({ itemId: z.string() }).loose()) }).loose();
const rankResponse = z.array(z.object({ itemId: z.string(), pctr: z.number() }).loose());
const slateResponse = z.object({
  requestId: z.string().optional(),
  policyId: z.string(),
  policyVersion: z.union([z.string(), z.number()]).optional(),
  slate: z.array(z.object({ itemId: z.string(), position: z.number().int(), propensity: z.number(), sampledScore: z.number().optional() })),
});
const adloadResponse = z.object({
  decisionId: z.string(),
  policyId: z.string(),
  policyVersion: z.union([z.string(), z.number()]).optional(),
  adSlots: z.number().int().min(0),
  positions: z.array(z.number().int().min(0)),
  propensity: z.number().gt(0).max(1),
});
const adFill = z
  .object({
    adId: z.string(),
    campaignId: z.string(),
    position: z.number().int().min(0),
    price: z.number(),
    /** apps/ads answers `ecpm`; the issue's contract says eCPM: either is read. */
    eCPM: z.number().optional(),
    ecpm: z.number().optional(),
    itemId: z.string().optional(),
    /** The ads app's tracking token: a billing event (ads.events impression/click) settles the fill's reservation with it. */
    token: z.string().optional(),
    trackingToken: z.string().optional(),
  })
  .loose();
const adsResponse = z.union([z.array(adFill), z.object({ ads: z.array(adFill) }).loose(), z.object({ fills: z.array(adFill) }).loose()]);

export type Assignment = z.output<typeof assignmentsResponse>['assignments'][number];
export type Assignments = { assignments: Assignment[]; config?: Record<string, unknown> };
export type SlateResult = z.output<typeof slateResponse>;
export type AdloadDecision = z.output<typeof adloadResponse>;
export type AdFill = z.output<typeof adFill>;

function parse<S extends z.ZodType>(stage: string, schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new StageError(
      stage,
      'bad_response',
      r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; '),
    );
  return r.data;
}

/**
 * The port the feed orchestration talks to: one method per stage, each bounded by the deadline
 * it is given. `SuiteStageClients` is the implementation: in process when the stage's app runs in
 * this process (its LocalDirectory capability is present), over HTTP otherwise.
 */
export interface StageClients {
  assign(userId: string, attributes: Record<string, unknown>, deadlineMs: number): Promise<Assignments>;
  recentHistory(userId: string, limit: number, deadlineMs: number): Promise<string[]>;
  /** `null` when the user has no embedding yet (cold start: not a failure). */
  candidates(req: { userId: string; k: number; groups?: string[]; excludeIds: string[] }, deadlineMs: number): Promise<{ itemId: string; score: number }[] | null>;
  rank(
    req: { userId: string; domain: string; candidates: string[]; context?: Record<string, string | number | boolean> },
    deadlineMs: number,
  ): Promise<{ items: { itemId: string; pctr: number }[]; model?: string; modelVersion?: string }>;
  slate(req: { userId: string; size: number; candidates: { itemId: string; score: number; group?: string }[]; policy?: string; seed?: number }, deadlineMs: number): Promise<SlateResult>;
  adload(
    req: { userId: string; surface: string; sessionFetchIndex: number; requestId?: string; context?: Record<string, string | number>; policyId?: string },
    deadlineMs: number,
  ): Promise<AdloadDecision>;
  fillAds(req: { userId: string; surface: string; positions: number[]; context?: Record<string, string | number | boolean | string[]> }, deadlineMs: number): Promise<AdFill[]>;
  breakerStates(): Record<string, BreakerState>;
  /** How the stage would be called now: `local` (in process) or `http`. */
  transport?(stage: FeedStage): 'local' | 'http';
  close(): Promise<void>;
}

export const STAGE_APP: Record<FeedStage, StageApp> = {
  experiments: 'experiments',
  history: 'behavior',
  retrieval: 'retrieval',
  ranking: 'ranking',
  slates: 'slates',
  adload: 'adload',
  ads: 'ads',
};

/** The LocalDirectory capability that serves each stage in process. */
export const STAGE_CAPABILITY: Record<FeedStage, string> = {
  experiments: EXPERIMENTS_ASSIGN,
  history: BEHAVIOR_HISTORY,
  retrieval: RETRIEVAL_CANDIDATES,
  ranking: RANKING_RANK,
  slates: SLATES_SLATE,
  adload: ADLOAD_DECIDE,
  ads: ADS_FILL,
};

/**
 * One in-process stage call with the HTTP path's semantics: refused at once while the stage's
 * breaker is open, bounded by the deadline (a timer racing the promise: the gateway stops waiting,
 * the call itself runs to its end and its late answer is dropped; the breaker counts the miss), and
 * the provider's DomainError mapped as its HTTP status would be (an expected 404 is a result, other
 * 4xx leave the breaker alone, 5xx and anything thrown count against it).
 */
export async function callLocal<T>(stage: string, breaker: CircuitBreaker, deadlineMs: number, call: () => Promise<T>, expectedStatuses: number[] = []): Promise<T> {
  if (deadlineMs <= 0) throw new StageError(stage, 'timeout', 'no time left in the fetch budget');
  if (!breaker.tryAcquire()) throw new StageError(stage, 'breaker_open', 'circuit open');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StageError(stage, 'timeout', `no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (e) {
    pending = Promise.reject(e);
  }
  try {
    const value = await Promise.race([pending, late]);
    breaker.success();
    return value;
  } catch (e) {
    if (e instanceof StageError) {
      // The deadline passed: the late answer (or error) is dropped.
      pending.catch(() => undefined);
      breaker.failure();
      throw e;
    }
    if (e instanceof DomainError) {
      const body = { code: e.code, detail: e.message, ...e.extra };
      if (expectedStatuses.includes(e.status)) {
        breaker.success();
        throw new StageError(stage, 'not_found', `status ${e.status} ${e.code}`, e.status, body);
      }
      if (e.status >= 500) breaker.failure();
      else breaker.success();
      throw new StageError(stage, 'http_error', `status ${e.status} ${e.code}`, e.status, body);
    }
    breaker.failure();
    throw new StageError(stage, 'http_error', `status 500: ${(e as Error)?.message ?? String(e)}`, 500);
  } finally {
    clearTimeout(timer);
  }
}

export interface StageClientsOptions {
  /** The process's LocalDirectory: stages whose app runs here are called in process. */
  local?: LocalDirectory;
  /** Stages that may be called in process (default every stage); the others always go over HTTP. */
  inProcess?: ReadonlySet<FeedStage>;
  /** Where a stage's app listens, resolved at each call (a suite on port 0 announces its bound URLs). */
  resolveUrl?: (app: StageApp) => string;
  onBreakerChange?: (stage: string, state: BreakerState) => void;
}

/**
 * The stage clients of the gateway. Per call and per stage: when the stage's capability is in the
 * process's LocalDirectory (its app runs in this process, and GATEWAY_IN_PROCESS allows it) the use
 * case is called directly (no socket, no JSON); otherwise over HTTP with an undici keep-alive pool.
 * The choice is made at every call, so a stage started later or stopped (its capability withdrawn)
 * is picked up at once. Both transports share the stage's deadline and circuit breaker and fail the
 * same ways (StageError reasons), so the feed's degrade ladder does not know which one ran.
 */
export class SuiteStageClients implements StageClients {
  private readonly stages: Record<FeedStage, HttpStage>;
  private readonly local?: LocalDirectory;
  private readonly inProcess: ReadonlySet<FeedStage>;

  constructor(config: GatewayConfig, opts: StageClientsOptions = {}) {
    const resolve = opts.resolveUrl ?? ((app: StageApp) => config.urls[app]);
    const make = (stage: FeedStage) => new HttpStage(stage, () => resolve(STAGE_APP[stage]), new CircuitBreaker(stage, config.breaker, Date.now, opts.onBreakerChange), config.poolConnections);
    this.stages = {
      experiments: make('experiments'),
      history: make('history'),
      retrieval: make('retrieval'),
      ranking: make('ranking'),
      slates: make('slates'),
      adload: make('adload'),
      ads: make('ads'),
    };
    this.local = opts.local;
    this.inProcess = opts.inProcess ?? new Set(Object.keys(STAGE_APP) as FeedStage[]);
  }

  private localOf<F>(stage: FeedStage): F | undefined {
    return this.local && this.inProcess.has(stage) ? this.local.lookup<F>(STAGE_CAPABILITY[stage]) : undefined;
  }

  transport(stage: FeedStage): 'local' | 'http' {
    return this.localOf(stage) ? 'local' : 'http';
  }

  async assign(userId: string, attributes: Record<string, unknown>, deadlineMs: number): Promise<Assignments> {
    const fn = this.localOf<LocalAssign>('experiments');
    if (fn) {
      const r = await callLocal('experiments', this.stages.experiments.breaker, deadlineMs, () => fn({ userId, attributes }));
      return { assignments: r.assignments, config: r.config };
    }
    const r = await this.stages.experiments.post('/v1/assignments', { userId, attributes }, deadlineMs);
    return parse('experiments', assignmentsResponse, r.body);
  }

  async recentHistory(userId: string, limit: number, deadlineMs: number) {
    const fn = this.localOf<LocalHistory>('history');
    try {
      if (fn) return (await callLocal('history', this.stages.history.breaker, deadlineMs, () => fn({ userId, limit }), [404])).items.map((i) => i.itemId);
      const r = await this.stages.history.get(`/v1/users/${encodeURIComponent(userId)}/history?limit=${limit}`, deadlineMs, { expectedStatuses: [404] });
      return parse('history', historyResponse, r.body).items.map((i) => i.itemId);
    } catch (e) {
      if (e instanceof StageError && e.reason === 'not_found') return [];
      throw e;
    }
  }

  async candidates(req: { userId: string; k: number; groups?: string[]; excludeIds: string[] }, deadlineMs: number) {
    const body = { namespace: 'items', userId: req.userId, k: req.k, filter: { ...(req.groups ? { groups: req.groups } : {}), excludeIds: req.excludeIds } };
    const fn = this.localOf<LocalCandidates>('retrieval');
    try {
      if (fn) return await callLocal('retrieval', this.stages.retrieval.breaker, deadlineMs, () => fn(body), [404]);
      const r = await this.stages.retrieval.post('/v1/candidates', body, deadlineMs, { expectedStatuses: [404] });
      return parse('retrieval', candidatesResponse, r.body);
    } catch (e) {
      if (e instanceof StageError && e.reason === 'not_found' && (e.body as { code?: string } | undefined)?.code === 'user_embedding_not_found') return null;
      if (e instanceof StageError && e.reason === 'not_found') throw new StageError('retrieval', 'http_error', e.message, e.status, e.body);
      throw e;
    }
  }

  async rank(req: { userId: string; domain: string; candidates: string[]; context?: Record<string, string | number | boolean> }, deadlineMs: number) {
    const fn = this.localOf<LocalRank>('ranking');
    if (fn) {
      const r = await callLocal('ranking', this.stages.ranking.breaker, deadlineMs, () => fn(req));
      return { items: r.items, model: r.model.name, modelVersion: r.model.version };
    }
    const r = await this.stages.ranking.post('/v1/rank', req, deadlineMs);
    const header = (k: string) => {
      const v = r.headers[k];
      return Array.isArray(v) ? v[0] : v;
    };
    return { items: parse('ranking', rankResponse, r.body), model: header('x-model-name'), modelVersion: header('x-model-version') };
  }

  async slate(req: { userId: string; size: number; candidates: { itemId: string; score: number; group?: string }[]; policy?: string; seed?: number }, deadlineMs: number) {
    const fn = this.localOf<LocalSlate>('slates');
    if (fn) return callLocal('slates', this.stages.slates.breaker, deadlineMs, () => fn(req));
    const r = await this.stages.slates.post('/v1/slates', req, deadlineMs);
    return parse('slates', slateResponse, r.body);
  }

  async adload(req: { userId: string; surface: string; sessionFetchIndex: number; requestId?: string; context?: Record<string, string | number>; policyId?: string }, deadlineMs: number) {
    const fn = this.localOf<LocalDecide>('adload');
    if (fn) return callLocal('adload', this.stages.adload.breaker, deadlineMs, () => fn(req));
    const r = await this.stages.adload.post('/v1/adload/decide', req, deadlineMs);
    return parse('adload', adloadResponse, r.body);
  }

  async fillAds(req: { userId: string; surface: string; positions: number[]; context?: Record<string, string | number | boolean | string[]> }, deadlineMs: number): Promise<AdFill[]> {
    const fn = this.localOf<LocalAdsFill>('ads');
    if (fn) return (await callLocal('ads', this.stages.ads.breaker, deadlineMs, () => fn(req))).ads;
    const r = await this.stages.ads.post('/v1/ads/fill', req, deadlineMs);
    const body = parse('ads', adsResponse, r.body);
    if (Array.isArray(body)) return body;
    const b = body as { ads?: AdFill[]; fills?: AdFill[] };
    return b.ads ?? b.fills ?? [];
  }

  breakerStates() {
    return Object.fromEntries(Object.entries(this.stages).map(([k, s]) => [k, s.breaker.state]));
  }

  async close() {
    await Promise.all(Object.values(this.stages).map((s) => s.close()));
  }
}
