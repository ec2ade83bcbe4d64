/**
 * The ads app's own settings (ADS_*), validated at boot like the suite's (a bad value stops the
 * process with every bad key listed). Retrieval and ranking are reached over HTTP: by default the
 * suite's own retrieval and ranking apps on HOST and their configured ports.
 */
import { z } from 'zod';
import { ConfigError, type SuiteConfig } from '@recsys/platform';

const url = z.url({ protocol: /^https?$/ });

export const adsConfigSchema = z.object({
  /** Base URL of the retrieval app (POST /v1/candidates); default http://HOST:RETRIEVAL_PORT. */
  ADS_RETRIEVAL_URL: url.optional(),
  /** Base URL of the ranking app (POST /v1/rank); default http://HOST:RANKING_PORT. */
  ADS_RANKING_URL: url.optional(),
  /** Ranking domain of ad pCTRs. */
  ADS_RANKING_DOMAIN: z.string().min(1).default('ads'),
  /** Deadline of each retrieval / ranking call; past it the fill degrades (all eligible ads / campaign priors). */
  ADS_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(40),
  /** Eligible ads asked from retrieval per fill. */
  ADS_CANDIDATES: z.coerce.number().int().min(1).max(1000).default(200),
  ADS_AUCTION: z.enum(['gsp', 'vcg']).default('gsp'),
  /** Reserve price, eCPM in currency units. */
  ADS_RESERVE_ECPM: z.coerce.number().min(0).default(0.1),
  /** How long a CPM win's reservation waits for its impression (the billing event); later impressions are not billed. */
  ADS_RESERVATION_TTL_MS: z.coerce.number().int().min(1000).default(600_000),
  /**
   * How long a CPC win holds the full click price for a click (the click billing window). Kept short:
   * with a CTR of 2%, each click's worth of budget is held by ~50 impressions meanwhile.
   */
  ADS_CLICK_WINDOW_MS: z.coerce.number().int().min(1000).default(120_000),
  /** `off`: campaigns spend as fast as they win (budgets are still enforced); for tests and comparisons. */
  ADS_PACING: z.enum(['on', 'off']).default('on'),
  /**
   * Key of the tracking tokens' HMAC (at least 32 characters). Unset: one random key kept in the state
   * store (created once, shared by every replica on that store).
   */
  ADS_TOKEN_SECRET: z.string().min(32).optional(),
  /**
   * Pacing spend gate: between control steps a campaign stops bidding once its spend reaches the
   * target curve at the end of the step plus this share of its daily budget (at least one billing
   * event). `off`: the throttle alone.
   */
  ADS_PACING_GATE_SLACK: z
    .union([z.literal('off'), z.coerce.number().min(0).max(1)])
    .default(0)
    .transform((v) => (v === 'off' ? Infinity : v)),
  /** Pacing control step (also refreshes every campaign's spend for eligibility); bench:ads simulates 5 minutes. */
  ADS_PACING_INTERVAL_MS: z.coerce.number().int().min(100).default(300_000),
});

export type AdsConfig = z.output<typeof adsConfigSchema> & { retrievalUrl: string; rankingUrl: string };

export function loadAdsConfig(suite: SuiteConfig, env: Record<string, string | undefined> = process.env): AdsConfig {
  const input: Record<string, string> = {};
  for (const k of Object.keys(adsConfigSchema.shape)) if (env[k] !== undefined && env[k] !== '') input[k] = env[k]!;
  const r = adsConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ key: String(i.path[0] ?? '(config)'), message: i.message })));
  const host = suite.HOST === '0.0.0.0' ? '127.0.0.1' : suite.HOST;
  return {
    ...r.data,
    retrievalUrl: (r.data.ADS_RETRIEVAL_URL ?? `http://${host}:${suite.RETRIEVAL_PORT}`).replace(/\/$/, ''),
    rankingUrl: (r.data.ADS_RANKING_URL ?? `http://${host}:${suite.RANKING_PORT}`).replace(/\/$/, ''),
  };
}
