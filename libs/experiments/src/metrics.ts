import { bayesianTest } from './stats/bayesian';
import { sequentialTest, twoSidedTest, type FrequentistResult } from './stats/frequentist';
import { benjaminiHochbergAdjust, holmAdjust } from './stats/multiple';
import { srmCheck } from './stats/srm';
import { mean, meanStat, raStat, ratioStat, type Stat } from './stats/statistics';

/** Per-user totals after exposure, summed from feed.impressions, feed.feedback and ads.events. */
export const POST_COLUMNS = ['fetches', 'items', 'adItems', 'clicks', 'dwellSec', 'revenue', 'activeDays'] as const;
/** Per-user totals of the pre-exposure period (CUPED covariates), fixed when the user is first exposed. */
export const PRE_COLUMNS = ['preFetches', 'preClicks', 'preDwellSec', 'preRevenue'] as const;
export type PostColumn = (typeof POST_COLUMNS)[number];
export type PreColumn = (typeof PRE_COLUMNS)[number];
export type UserTotals = Record<PostColumn, number>;
export type UserPre = Record<PreColumn, number>;

export interface MetricDef {
  key: string;
  label: string;
  kind: 'mean' | 'ratio';
  numerator: PostColumn;
  denominator?: PostColumn;
  /** Pre-exposure covariate for CUPED (mean metrics). */
  covariate?: PreColumn;
  /** Lower is better. */
  inverse?: boolean;
}

export const METRICS: MetricDef[] = [
  { key: 'ctr', label: 'CTR (clicks / items shown)', kind: 'ratio', numerator: 'clicks', denominator: 'items' },
  { key: 'clicks_per_user', label: 'Clicks per user', kind: 'mean', numerator: 'clicks', covariate: 'preClicks' },
  { key: 'revenue_per_user', label: 'Revenue per user', kind: 'mean', numerator: 'revenue', covariate: 'preRevenue' },
  { key: 'ad_load', label: 'Ad load (ads / items shown)', kind: 'ratio', numerator: 'adItems', denominator: 'items' },
  { key: 'session_length', label: 'Session length (fetches per active day)', kind: 'ratio', numerator: 'fetches', denominator: 'activeDays' },
  { key: 'dwell', label: 'Dwell seconds per user', kind: 'mean', numerator: 'dwellSec', covariate: 'preDwellSec' },
];

/** Products of two per-user columns whose sums the tests need (ratio metrics and CUPED). */
export const PRODUCTS: Array<[PostColumn, PostColumn | PreColumn]> = [];
for (const m of METRICS) {
  if (m.denominator) PRODUCTS.push([m.numerator, m.denominator]);
  if (m.covariate) PRODUCTS.push([m.numerator, m.covariate]);
}
const productKey = (a: string, b: string) => `${a}*${b}`;

/** Sufficient statistics of a variant (or of a variant's day): n, then s.<col>, q.<col> (squares), p.<a*b>. */
export type VariantSums = Record<string, number>;

export const zeroTotals = (): UserTotals => ({ fetches: 0, items: 0, adItems: 0, clicks: 0, dwellSec: 0, revenue: 0, activeDays: 0 });
export const zeroPre = (): UserPre => ({ preFetches: 0, preClicks: 0, preDwellSec: 0, preRevenue: 0 });

function add(into: VariantSums, key: string, d: number) {
  if (d !== 0) into[key] = (into[key] ?? 0) + d;
}

/**
 * What one user's change from `before` to `after` adds to its variant's sums: exact incremental
 * maintenance of sums of squares and products (new^2 - old^2), so variant statistics never need a
 * scan over users. `before` undefined means a newly exposed user (n + 1, its pre-period sums).
 */
export function sumsDelta(before: UserTotals | undefined, after: UserTotals, pre: UserPre): VariantSums {
  const d: VariantSums = {};
  const old = before ?? zeroTotals();
  if (!before) {
    d.n = 1;
    for (const c of PRE_COLUMNS) {
      add(d, `s.${c}`, pre[c]);
      add(d, `q.${c}`, pre[c] * pre[c]);
    }
  }
  for (const c of POST_COLUMNS) {
    add(d, `s.${c}`, after[c] - old[c]);
    add(d, `q.${c}`, after[c] * after[c] - old[c] * old[c]);
  }
  const val = (t: UserTotals, c: string) => (c in t ? t[c as PostColumn] : pre[c as PreColumn]);
  for (const [a, b] of PRODUCTS) add(d, `p.${productKey(a, b)}`, val(after, a) * val(after, b) - val(old, a) * val(old, b));
  return d;
}

export function addSums(into: VariantSums, delta: VariantSums): VariantSums {
  for (const [k, v] of Object.entries(delta)) add(into, k, v);
  return into;
}

export function subSums(into: VariantSums, delta: VariantSums): VariantSums {
  for (const [k, v] of Object.entries(delta)) add(into, k, -v);
  return into;
}

/** A user's metric changes per UTC day (YYYY-MM-DD) since exposure: the totals through any day are prefix sums. */
export type ByDay = Record<string, Partial<UserTotals>>;

function totalsThrough(byDay: ByDay, day: string): UserTotals {
  const t = zeroTotals();
  for (const [d, x] of Object.entries(byDay)) if (d <= day) for (const [k, v] of Object.entries(x)) t[k as PostColumn] += v ?? 0;
  return t;
}

function plus(t: UserTotals, d: Partial<UserTotals>): UserTotals {
  const r = { ...t };
  for (const [k, v] of Object.entries(d)) r[k as PostColumn] += v ?? 0;
  return r;
}

/**
 * Applies one event (day, deltas) to an exposed user and returns what it adds to the variant's
 * sums and to each day's sums, such that the prefix sum of the daily sums through day D is the
 * variant's statistics of the users' totals through D, whatever order events arrive in: an event
 * of day d changes the user's totals of d and of every later day on which the user has activity
 * (where the statistics of D and of the day before differ). `isNew` adds the user (n, pre-period)
 * on its first day. Mutates byDay.
 */
export function applyUserEvent(byDay: ByDay, isNew: boolean, pre: UserPre, day: string, deltas: Partial<UserTotals>): { total: VariantSums; daily: Map<string, VariantSums> } {
  const daily = new Map<string, VariantSums>();
  const later = Object.keys(byDay)
    .filter((d) => d > day)
    .sort();
  const at = totalsThrough(byDay, day);
  const beforeAt = isNew ? undefined : at;
  daily.set(day, sumsDelta(beforeAt, plus(at, deltas), pre));
  let prev = at;
  for (const d of later) {
    const t = totalsThrough(byDay, d);
    const change = sumsDelta(t, plus(t, deltas), pre);
    subSums(change, sumsDelta(prev, plus(prev, deltas), pre));
    daily.set(d, change);
    prev = t;
  }
  const last = later.length ? prev : at;
  const total = sumsDelta(isNew ? undefined : last, plus(last, deltas), pre);
  const cur = (byDay[day] ??= {});
  for (const [k, v] of Object.entries(deltas)) cur[k as PostColumn] = (cur[k as PostColumn] ?? 0) + (v ?? 0);
  return { total, daily };
}

const g = (s: VariantSums, k: string) => s[k] ?? 0;

/** The gbstats statistic of a metric in a variant; with `cuped`, the regression-adjusted form of mean metrics that have a covariate. */
export function statOf(m: MetricDef, s: VariantSums, cuped: boolean): Stat {
  const n = g(s, 'n');
  const base = (c: string) => meanStat(n, g(s, `s.${c}`), g(s, `q.${c}`));
  if (m.kind === 'ratio') return ratioStat(n, base(m.numerator), base(m.denominator!), g(s, `p.${productKey(m.numerator, m.denominator!)}`));
  if (cuped && m.covariate) return raStat(n, base(m.numerator), base(m.covariate), g(s, `p.${productKey(m.numerator, m.covariate)}`));
  return base(m.numerator);
}

export interface AnalysisOptions {
  alpha?: number;
  /** Confidence sequences (always valid under peeking) instead of fixed-horizon intervals. */
  sequential?: boolean;
  sequentialTuning?: number;
  cuped?: boolean;
  correction?: 'none' | 'holm' | 'bh';
}

export interface VariantMetricResult {
  metric: string;
  variant: string;
  mean: number;
  /** Relative lift over control and its interval (sequential: the confidence sequence). */
  lift?: number;
  ci?: [number, number];
  pValue?: number;
  adjustedPValue?: number;
  chanceToWin?: number;
  risk?: [number, number];
  errorMessage?: string;
}

export interface ExperimentAnalysis {
  variants: Array<{ key: string; users: number; weight: number }>;
  srm: { pValue: number; alarm: boolean };
  metrics: VariantMetricResult[];
}

/** Every metric of every variant against the first (control): frequentist lift, Bayesian chance to win, SRM, corrections. */
export function analyse(variants: Array<{ key: string; weight: number; sums: VariantSums }>, opts: AnalysisOptions = {}): ExperimentAnalysis {
  const alpha = opts.alpha ?? 0.05;
  const cuped = opts.cuped ?? true;
  const users = variants.map((v) => g(v.sums, 'n'));
  const out: VariantMetricResult[] = [];
  for (const m of METRICS) {
    const control = statOf(m, variants[0].sums, cuped);
    out.push({ metric: m.key, variant: variants[0].key, mean: mean(statOf(m, variants[0].sums, false)) });
    for (const v of variants.slice(1)) {
      const treat = statOf(m, v.sums, cuped);
      const f: FrequentistResult = opts.sequential ? sequentialTest(control, treat, { alpha, tuning: opts.sequentialTuning }) : twoSidedTest(control, treat, { alpha });
      const b = bayesianTest(control, treat, { alpha, inverse: m.inverse });
      out.push({
        metric: m.key,
        variant: v.key,
        mean: mean(statOf(m, v.sums, false)),
        lift: f.expected,
        ci: f.ci,
        pValue: f.pValue,
        chanceToWin: b.chanceToWin,
        risk: b.risk,
        ...(f.errorMessage ? { errorMessage: f.errorMessage } : {}),
      });
    }
  }
  const tested = out.filter((r) => r.pValue !== undefined);
  if (opts.correction && opts.correction !== 'none') {
    const adj = (opts.correction === 'holm' ? holmAdjust : benjaminiHochbergAdjust)(tested.map((r) => r.pValue!));
    tested.forEach((r, i) => (r.adjustedPValue = adj[i]));
  }
  return {
    variants: variants.map((v, i) => ({ key: v.key, users: users[i], weight: v.weight })),
    srm: srmCheck(
      users,
      variants.map((v) => v.weight),
    ),
    metrics: out,
  };
}
