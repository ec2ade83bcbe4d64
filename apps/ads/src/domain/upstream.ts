/**
 * The fill's two upstream calls: eligible ads from retrieval (namespace `ads`, near the user's
 * embedding, filtered to eligible campaigns by group) and pCTRs from ranking (domain `ads`). Both
 * are ports so tests and the benchmark can swap them; the HTTP clients keep connections alive.
 */
export interface AdCandidate {
  adId: string;
  score: number;
}

export interface CandidateSource {
  /** Nearest ads to the user; throws when unavailable (the fill degrades). */
  candidates(userId: string, k: number, campaignIds: string[]): Promise<AdCandidate[]>;
}

export interface CtrScorer {
  /** pCTR per ad id; throws when unavailable (campaign priors are used). */
  score(userId: string, adIds: string[], context?: Record<string, unknown>): Promise<Map<string, number>>;
}

export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new UpstreamError(res.status, `${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

export class HttpCandidateSource implements CandidateSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly namespace = 'ads',
  ) {}

  async candidates(userId: string, k: number, campaignIds: string[]): Promise<AdCandidate[]> {
    const r = (await post(`${this.baseUrl}/v1/candidates`, { namespace: this.namespace, k, userId, filter: { groups: campaignIds } }, this.timeoutMs)) as { itemId: string; score: number }[];
    return r.map((c) => ({ adId: c.itemId, score: c.score }));
  }
}

export class HttpCtrScorer implements CtrScorer {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly domain = 'ads',
  ) {}

  async score(userId: string, adIds: string[]): Promise<Map<string, number>> {
    const r = (await post(`${this.baseUrl}/v1/rank`, { userId, domain: this.domain, candidates: adIds }, this.timeoutMs)) as { itemId: string; pctr: number }[];
    return new Map(r.map((x) => [x.itemId, x.pctr]));
  }
}
