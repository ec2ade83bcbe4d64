import { z } from 'zod';
import { ConfigError, portOf, type SuiteConfig } from '@recsys/platform';
import { feedStages, type FeedStage } from '@recsys/contracts';

const ms = z.coerce.number().int().min(1).max(60_000);

/** `stage=ms,stage=ms` overrides of the per-stage deadlines. */
const deadlineList = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const out: Partial<Record<FeedStage, number>> = {};
    for (const part of s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [k, v] = part.split('=');
      const n = Number(v);
      if (!(feedStages as readonly string[]).includes(k!) || !Number.isInteger(n) || n < 1) {
        ctx.addIssue({ code: 'custom', message: `bad deadline '${part}': stage=ms with stage one of ${feedStages.join(', ')}` });
        continue;
      }
      out[k as FeedStage] = n;
    }
    return out;
  });

/** Surfaces and the item groups they may show: `home=*;kids=genre-1|genre-2` (`*` = every group). */
const surfaceList = z
  .string()
  .default('home=*')
  .transform((s, ctx) => {
    const out: Record<string, string[] | null> = {};
    for (const part of s
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [name, groups] = part.split('=');
      if (!name || groups === undefined || !/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
        ctx.addIssue({ code: 'custom', message: `bad surface '${part}': name=*|group1|group2` });
        continue;
      }
      out[name] =
        groups.trim() === '*'
          ? null
          : groups
              .split('|')
              .map((g) => g.trim())
              .filter(Boolean);
    }
    return out;
  });

/** `auto` (every stage whose app runs in this process), `off`, or the stages that may be called in process (`ranking,retrieval`). */
const inProcessList = z
  .string()
  .default('auto')
  .transform((s, ctx) => {
    const v = s.trim();
    if (v === 'auto' || v === '') return new Set<FeedStage>(feedStages);
    if (v === 'off') return new Set<FeedStage>();
    const out = new Set<FeedStage>();
    for (const part of v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (!(feedStages as readonly string[]).includes(part)) ctx.addIssue({ code: 'custom', message: `unknown stage '${part}': auto, off, or stages among ${feedStages.join(', ')}` });
      else out.add(part as FeedStage);
    }
    return out;
  });

const urlish = z.string().regex(/^https?:\/\/[^\s/]+$/, 'http(s)://host:port (no path)');

/** Gateway-only settings, read from the environment beside the suite's config (GATEWAY_*). */
export const gatewayConfigSchema = z.object({
  GATEWAY_EXPERIMENTS_URL: urlish.optional(),
  GATEWAY_BEHAVIOR_URL: urlish.optional(),
  GATEWAY_RETRIEVAL_URL: urlish.optional(),
  GATEWAY_RANKING_URL: urlish.optional(),
  GATEWAY_SLATES_URL: urlish.optional(),
  GATEWAY_ADLOAD_URL: urlish.optional(),
  GATEWAY_ADS_URL: urlish.optional(),
  /**
   * Stages called in process when their app runs in the gateway's process (LocalDirectory): `auto`
   * (all), `off` (always HTTP), or a list of stages. A stage whose app is elsewhere goes over HTTP.
   */
  GATEWAY_IN_PROCESS: inProcessList,
  /** Per-stage deadlines (ms), e.g. `retrieval=40,ranking=40`. */
  GATEWAY_DEADLINES: deadlineList,
  /** Budget of the whole fetch: a stage never gets more than what is left of it. */
  GATEWAY_TOTAL_DEADLINE_MS: ms.default(150),
  /** Candidates asked from retrieval. */
  GATEWAY_CANDIDATES: z.coerce.number().int().min(1).max(1000).default(500),
  /** Ranked candidates passed on to the slate stage. */
  GATEWAY_SLATE_POOL: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * Candidates written to the decision record (feed.impressions `candidates`), best first: by
   * default the slate pool (what the slate policy chose from, i.e. the support of the logged
   * policy, which is what off-policy estimators can use); up to 5000 to keep every candidate
   * ranking scored (each one is bytes every consumer parses).
   */
  GATEWAY_RECORD_CANDIDATES: z.coerce.number().int().min(0).max(5000).default(100),
  GATEWAY_SURFACES: surfaceList,
  /** Breaker: consecutive failures that open it, and how long it stays open before one trial call. */
  GATEWAY_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1e9).default(5),
  GATEWAY_BREAKER_COOLDOWN_MS: ms.default(5000),
  /** Keep-alive connections per stage origin. */
  GATEWAY_POOL_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(32),
  /** API keys on /v1/feed and /v1/events: `required`, or `off` (anonymous allowed; a key given is still checked). Default: required when ADMIN_TOKEN is set. */
  GATEWAY_API_KEYS: z.enum(['required', 'off']).optional(),
  /** Default token bucket of a key: refill per second and burst. */
  GATEWAY_RATE_LIMIT_RPS: z.coerce.number().min(0.001).max(1e6).default(200),
  GATEWAY_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1e7).default(400),
  /** How long a looked-up API key is cached in the process (a revocation takes effect within it). */
  GATEWAY_KEY_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** HMAC secret of the tracking tokens; default derived from ADMIN_TOKEN, else a fixed development secret. */
  GATEWAY_TRACKING_SECRET: z.string().min(16).optional(),
  /** Items a user was shown that stay excluded from the next fetches. */
  GATEWAY_SEEN_CAP: z.coerce.number().int().min(0).max(10_000).default(500),
  GATEWAY_SESSION_GAP_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30 * 60_000),
  /** Ranking domain of a fetch that names none (the MovieLens-trained models know family, thrill, drama). */
  GATEWAY_DEFAULT_DOMAIN: z.string().min(1).max(100).default('family'),
});

export const DEFAULT_DEADLINES: Record<FeedStage, number> = {
  experiments: 15,
  history: 15,
  retrieval: 40,
  ranking: 40,
  slates: 25,
  adload: 15,
  ads: 25,
};

export interface GatewayConfig {
  urls: Record<StageApp, string>;
  /** Apps whose URL was given (GATEWAY_<APP>_URL): used as is, never replaced by the URL the suite announces. */
  explicitUrls: ReadonlySet<StageApp>;
  inProcess: ReadonlySet<FeedStage>;
  deadlines: Record<FeedStage, number>;
  totalDeadlineMs: number;
  candidates: number;
  slatePool: number;
  recordCandidates: number;
  surfaces: Record<string, string[] | null>;
  breaker: { failures: number; cooldownMs: number };
  poolConnections: number;
  apiKeys: 'required' | 'off';
  rateLimit: { rps: number; burst: number };
  keyCacheMs: number;
  trackingSecret: string;
  seenCap: number;
  sessionGapMs: number;
  defaultDomain: string;
}

/**
 * Where an app of this process listens, as the suite announces it once every app is bound
 * (apps/suite: a value in the shared LocalDirectory): the gateway finds stages started on port 0.
 */
export const appUrlCapability = (app: string) => `suite.url.${app}`;

export type StageApp = 'experiments' | 'behavior' | 'retrieval' | 'ranking' | 'slates' | 'adload' | 'ads';

export function loadGatewayConfig(suite: SuiteConfig, env: Record<string, string | undefined> = process.env): GatewayConfig {
  const input: Record<string, string> = {};
  for (const k of Object.keys(gatewayConfigSchema.shape)) if (env[k] !== undefined && env[k] !== '') input[k] = env[k]!;
  const r = gatewayConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ key: String(i.path[0] ?? '(config)'), message: i.message })));
  const c = r.data;
  const host = suite.HOST === '0.0.0.0' || suite.HOST === '::' ? '127.0.0.1' : suite.HOST;
  const url = (app: StageApp, given?: string) => given ?? `http://${host}:${portOf(suite, app)}`;
  return {
    urls: {
      experiments: url('experiments', c.GATEWAY_EXPERIMENTS_URL),
      behavior: url('behavior', c.GATEWAY_BEHAVIOR_URL),
      retrieval: url('retrieval', c.GATEWAY_RETRIEVAL_URL),
      ranking: url('ranking', c.GATEWAY_RANKING_URL),
      slates: url('slates', c.GATEWAY_SLATES_URL),
      adload: url('adload', c.GATEWAY_ADLOAD_URL),
      ads: url('ads', c.GATEWAY_ADS_URL),
    },
    explicitUrls: new Set((['experiments', 'behavior', 'retrieval', 'ranking', 'slates', 'adload', 'ads'] as const).filter((a) => c[`GATEWAY_${a.toUpperCase()}_URL` as keyof typeof c] !== undefined)),
    inProcess: c.GATEWAY_IN_PROCESS,
    deadlines: { ...DEFAULT_DEADLINES, ...c.GATEWAY_DEADLINES },
    totalDeadlineMs: c.GATEWAY_TOTAL_DEADLINE_MS,
    candidates: c.GATEWAY_CANDIDATES,
    slatePool: c.GATEWAY_SLATE_POOL,
    recordCandidates: c.GATEWAY_RECORD_CANDIDATES,
    surfaces: c.GATEWAY_SURFACES,
    breaker: { failures: c.GATEWAY_BREAKER_FAILURES, cooldownMs: c.GATEWAY_BREAKER_COOLDOWN_MS },
    poolConnections: c.GATEWAY_POOL_CONNECTIONS,
    apiKeys: c.GATEWAY_API_KEYS ?? (suite.ADMIN_TOKEN ? 'required' : 'off'),
    rateLimit: { rps: c.GATEWAY_RATE_LIMIT_RPS, burst: c.GATEWAY_RATE_LIMIT_BURST },
    keyCacheMs: c.GATEWAY_KEY_CACHE_MS,
    trackingSecret: c.GATEWAY_TRACKING_SECRET ?? `tracking:${suite.ADMIN_TOKEN ?? 'recsys-development-secret'}`,
    seenCap: c.GATEWAY_SEEN_CAP,
    sessionGapMs: c.GATEWAY_SESSION_GAP_MS,
    defaultDomain: c.GATEWAY_DEFAULT_DOMAIN,
  };
}
