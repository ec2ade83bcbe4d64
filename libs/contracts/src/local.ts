/**
 * Use cases one app offers the others in the same process (libs/platform LocalDirectory), by
 * capability name. Each takes the JSON body its HTTP route takes, validated by the provider with
 * the route's own zod schema, and answers what the route answers (plus what the route sends in
 * headers, as fields), so a caller has one contract over both transports. A provider's failure is
 * the DomainError (code, status) its route would have answered with.
 */
export type LocalCall<Res> = (body: unknown) => Promise<Res>;

/** retrieval `POST /v1/candidates`. */
export const RETRIEVAL_CANDIDATES = 'retrieval.candidates';
export type LocalCandidates = LocalCall<{ itemId: string; score: number }[]>;

/** ranking `POST /v1/rank`: the items (best first) and the model that scored (the x-model-* headers). */
export const RANKING_RANK = 'ranking.rank';
export type LocalRank = LocalCall<{ items: { itemId: string; pctr: number }[]; model: { name: string; version: string }; shadowVersion?: string }>;

/** ads `POST /v1/ads/fill`: the filled slots (price and eCPM in currency units; token for POST /v1/ads/events) and the stages that degraded. */
export const ADS_FILL = 'ads.fill';
export type LocalAdsFill = LocalCall<{
  requestId: string;
  ads: { adId: string; campaignId: string; position: number; slot: number; bidType: 'cpc' | 'cpm'; price: number; ecpm: number; priceEcpm: number; pctr: number; token: string }[];
  degraded: ('retrieval' | 'ranking')[];
}>;

/** slates `POST /v1/slates`: the route's response (the slate with per-slot propensities). */
export const SLATES_SLATE = 'slates.slate';
export type LocalSlate = LocalCall<{
  requestId: string;
  policyId: string;
  slate: { itemId: string; position: number; propensity: number; inclusionPropensity: number; sampledScore: number }[];
  propensityMethod: 'exact' | 'monte-carlo';
  draws: number;
  seed: number;
}>;

/** behavior `GET /v1/users/{id}/history?limit`: body `{userId, limit}`; the user's behaviours, newest first. */
export const BEHAVIOR_HISTORY = 'behavior.history';
export type LocalHistory = LocalCall<{ userId: string; total: number; items: { eventId: string; itemId: string; type: string; ts: number }[] }>;

/** experiments `POST /v1/assignments`: the user's variants and the effective config overrides. */
export const EXPERIMENTS_ASSIGN = 'experiments.assign';
export type LocalAssign = LocalCall<{ userId: string; heldOut: boolean; assignments: { experiment: string; variant: string; overrides: Record<string, unknown> }[]; config: Record<string, unknown> }>;

/** adload `POST /v1/adload/decide`: the fetch's ad-load decision, logged with its propensity. */
export const ADLOAD_DECIDE = 'adload.decide';
export type LocalDecide = LocalCall<{ decisionId: string; requestId: string; policyId: string; policyVersion: number; adSlots: number; positions: number[]; propensity: number }>;
