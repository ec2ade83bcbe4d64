import { z } from 'zod';
import type { FeedStage } from '@recsys/contracts';
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
 * it is given. The HTTP implementation below is the only one: apps in one process still talk over
 * loopback HTTP with keep-alive pools (one code path in one or many processes; ~0.1-0.3 ms a call).
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
  adload(req: { userId: string; surface: string; sessionFetchIndex: number; requestId?: string; context?: Record<string, string | number> }, deadlineMs: number): Promise<AdloadDecision>;
  fillAds(req: { userId: string; surface: string; positions: number[]; context?: Record<string, string | number | boolean | string[]> }, deadlineMs: number): Promise<AdFill[]>;
  breakerStates(): Record<string, BreakerState>;
  close(): Promise<void>;
}

const STAGE_APP: Record<FeedStage, StageApp> = {
  experiments: 'experiments',
  history: 'behavior',
  retrieval: 'retrieval',
  ranking: 'ranking',
  slates: 'slates',
  adload: 'adload',
  ads: 'ads',
};

export class HttpStageClients implements StageClients {
  private readonly stages: Record<FeedStage, HttpStage>;

  constructor(config: GatewayConfig, onBreakerChange?: (stage: string, state: BreakerState) => void) {
    const make = (stage: FeedStage) => new HttpStage(stage, config.urls[STAGE_APP[stage]], new CircuitBreaker(stage, config.breaker, Date.now, onBreakerChange), config.poolConnections);
    this.stages = {
      experiments: make('experiments'),
      history: make('history'),
      retrieval: make('retrieval'),
      ranking: make('ranking'),
      slates: make('slates'),
      adload: make('adload'),
      ads: make('ads'),
    };
  }

  async assign(userId: string, attributes: Record<string, unknown>, deadlineMs: number) {
    const r = await this.stages.experiments.post('/v1/assignments', { userId, attributes }, deadlineMs);
    return parse('experiments', assignmentsResponse, r.body);
  }

  async recentHistory(userId: string, limit: number, deadlineMs: number) {
    try {
      const r = await this.stages.history.get(`/v1/users/${encodeURIComponent(userId)}/history?limit=${limit}`, deadlineMs, { expectedStatuses: [404] });
      return parse('history', historyResponse, r.body).items.map((i) => i.itemId);
    } catch (e) {
      if (e instanceof StageError && e.reason === 'not_found') return [];
      throw e;
    }
  }

  async candidates(req: { userId: string; k: number; groups?: string[]; excludeIds: string[] }, deadlineMs: number) {
    const body = { namespace: 'items', userId: req.userId, k: req.k, filter: { ...(req.groups ? { groups: req.groups } : {}), excludeIds: req.excludeIds } };
    try {
      const r = await this.stages.retrieval.post('/v1/candidates', body, deadlineMs, { expectedStatuses: [404] });
      return parse('retrieval', candidatesResponse, r.body);
    } catch (e) {
      if (e instanceof StageError && e.reason === 'not_found' && (e.body as { code?: string } | undefined)?.code === 'user_embedding_not_found') return null;
      if (e instanceof StageError && e.reason === 'not_found') throw new StageError('retrieval', 'http_error', e.message, e.status, e.body);
      throw e;
    }
  }

  async rank(req: { userId: string; domain: string; candidates: string[]; context?: Record<string, string | number | boolean> }, deadlineMs: number) {
    const r = await this.stages.ranking.post('/v1/rank', req, deadlineMs);
    const header = (k: string) => {
      const v = r.headers[k];
      return Array.isArray(v) ? v[0] : v;
    };
    return { items: parse('ranking', rankResponse, r.body), model: header('x-model-name'), modelVersion: header('x-model-version') };
  }

  async slate(req: { userId: string; size: number; candidates: { itemId: string; score: number; group?: string }[]; policy?: string; seed?: number }, deadlineMs: number) {
    const r = await this.stages.slates.post('/v1/slates', req, deadlineMs);
    return parse('slates', slateResponse, r.body);
  }

  async adload(req: { userId: string; surface: string; sessionFetchIndex: number; requestId?: string; context?: Record<string, string | number> }, deadlineMs: number) {
    const r = await this.stages.adload.post('/v1/adload/decide', req, deadlineMs);
    return parse('adload', adloadResponse, r.body);
  }

  async fillAds(req: { userId: string; surface: string; positions: number[]; context?: Record<string, string | number | boolean | string[]> }, deadlineMs: number): Promise<AdFill[]> {
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
