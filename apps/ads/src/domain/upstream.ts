/**
 * The fill's two upstream calls: eligible ads from retrieval (namespace `ads`, near the user's
 * embedding, filtered to eligible campaigns by group) and pCTRs from ranking (domain `ads`). Both
 * are ports so tests and the benchmark can swap them. In one process with retrieval / ranking the
 * calls go through the LocalDirectory (`retrieval.candidates`, `ranking.rank`: no socket, no JSON);
 * otherwise over HTTP on an undici keep-alive pool. The lookup happens at every call, so start order
 * does not matter and a provider that shuts down sends the next call back to HTTP.
 */
import { Pool } from 'undici';
import { RANKING_RANK, RETRIEVAL_CANDIDATES, type LocalCandidates, type LocalRank } from '@recsys/contracts';
import type { LocalDirectory } from '@recsys/platform';

export interface AdCandidate {
  adId: string;
  score: number;
}

export interface CandidateSource {
  /** Nearest ads to the user, of these campaigns (null: of any); throws when unavailable (the fill degrades). */
  candidates(userId: string, k: number, campaignIds: string[] | null): Promise<AdCandidate[]>;
  close?(): Promise<void>;
}

export interface CtrScorer {
  /** pCTR per ad id; throws when unavailable (campaign priors are used). */
  score(userId: string, adIds: string[], context?: Record<string, unknown>): Promise<Map<string, number>>;
  close?(): Promise<void>;
}

export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One origin over HTTP: a keep-alive pool and a deadline per call (the request is aborted past it). */
class JsonPool {
  private readonly pool: Pool;
  constructor(
    private readonly origin: string,
    private readonly timeoutMs: number,
    connections = 16,
  ) {
    const u = new URL(origin);
    this.pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: Math.max(1000, timeoutMs) });
    this.prefix = u.pathname.replace(/\/$/, '');
  }
  private readonly prefix: string;

  async post(path: string, body: unknown): Promise<unknown> {
    const res = await this.pool.request({
      method: 'POST',
      path: this.prefix + path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new UpstreamError(res.statusCode, `${this.origin}${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Races a promise against the deadline (an in-process call cannot be aborted, but the fill does not wait past it). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(504, `${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export class RetrievalCandidateSource implements CandidateSource {
  private readonly http: JsonPool;
  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
    private readonly namespace = 'ads',
    private readonly local?: LocalDirectory,
  ) {
    this.http = new JsonPool(baseUrl, timeoutMs);
  }

  async candidates(userId: string, k: number, campaignIds: string[] | null): Promise<AdCandidate[]> {
    const body = campaignIds ? { namespace: this.namespace, k, userId, filter: { groups: campaignIds } } : { namespace: this.namespace, k, userId };
    const local = this.local?.lookup<LocalCandidates>(RETRIEVAL_CANDIDATES);
    const r = local ? await withDeadline(local(body), this.timeoutMs, 'retrieval.candidates') : ((await this.http.post('/v1/candidates', body)) as { itemId: string; score: number }[]);
    const out: AdCandidate[] = new Array(r.length);
    for (let i = 0; i < r.length; i++) out[i] = { adId: r[i].itemId, score: r[i].score };
    return out;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export class RankingCtrScorer implements CtrScorer {
  private readonly http: JsonPool;
  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
    private readonly domain = 'ads',
    private readonly local?: LocalDirectory,
  ) {
    this.http = new JsonPool(baseUrl, timeoutMs);
  }

  async score(userId: string, adIds: string[]): Promise<Map<string, number>> {
    const body = { userId, domain: this.domain, candidates: adIds };
    const local = this.local?.lookup<LocalRank>(RANKING_RANK);
    const items = local ? (await withDeadline(local(body), this.timeoutMs, 'ranking.rank')).items : ((await this.http.post('/v1/rank', body)) as { itemId: string; pctr: number }[]);
    const m = new Map<string, number>();
    for (const x of items) m.set(x.itemId, x.pctr);
    return m;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
