import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { estimatePbm, logit, Rng, sigmoid, type PositionCount } from '@recsys/bandits';

/**
 * Simulated users whose ground-truth click models come from real logs (issue 12, benchmark):
 *   P(click at slot k on item i | user context c) = e_k * attr(c, i)   (position-based model)
 * plus an imperfect ranker: pCTR(c, i) = sigmoid(0.8 * logit(attr(c, i)) + u_i + v_ci), with an
 * item bias u_i ~ N(0, itemNoise^2) and a context-item noise v_ci ~ N(0, pairNoise^2) drawn per
 * seed: the ranker's order is right on average, miscalibrated (slope 0.8) and wrong per item.
 */
export interface World {
  name: string;
  contexts: number;
  /** probability of each user context per request */
  contextWeights: number[];
  items: string[];
  /** group index per item, and group names */
  group: Int32Array;
  groupNames: string[];
  /** attr[c * items + i] = P(click | examined) */
  attr: Float64Array;
  /** examination per slot (slot 0 = most examined) */
  examination: number[];
  slateSize: number;
  candidates: number;
  source: string;
}

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
}

/**
 * Open Bandit Dataset, uniform-random logs (one campaign, or both as separate contexts): the
 * examination of positions 1-3 by EM over (item, position) counts, slots ordered by it (slot 0 =
 * the most examined position); attr(c, i) per user_feature_0 value, shrunk to the item's PBM
 * attractiveness with `shrink` examined pseudo-impressions (the logs hold ~46 clicks per campaign).
 * Groups: item_feature_1 (item category hash).
 */
export function obdWorld(dataDir: string, campaign: 'men' | 'women', opts: { candidates?: number; shrink?: number } = {}): World {
  const dir = join(dataDir, 'obd', 'random', campaign);
  const rows = csvRows(join(dir, `${campaign}.csv`));
  const h = rows[0];
  const col = (n: string) => h.indexOf(n);
  const [ci, cp, cc, cu] = [col('item_id'), col('position'), col('click'), col('user_feature_0')];
  const body = rows.slice(1);
  const itemCtx = csvRows(join(dir, 'item_context.csv'));
  const ih = itemCtx[0];
  const items = itemCtx.slice(1).map((r) => r[ih.indexOf('item_id')]);
  const groupOf = itemCtx.slice(1).map((r) => r[ih.indexOf('item_feature_1')]);
  const groupNames = [...new Set(groupOf)];
  const itemIndex = new Map(items.map((x, i) => [x, i]));
  const counts = new Map<string, PositionCount>();
  for (const r of body) {
    const key = `${r[ci]}|${r[cp]}`;
    const row = counts.get(key) ?? { item: r[ci], position: Number(r[cp]) - 1, impressions: 0, clicks: 0 };
    row.impressions++;
    row.clicks += Number(r[cc]);
    counts.set(key, row);
  }
  const pbm = estimatePbm([...counts.values()]);
  const maxE = Math.max(...pbm.examination);
  const byExam = pbm.examination.map((e, k) => ({ e: e / maxE, k })).sort((a, b) => b.e - a.e);
  const examination = byExam.map((x) => x.e);
  const examOfPos = pbm.examination.map((e) => e / maxE);
  const contextsList = [...new Set(body.map((r) => r[cu]))].sort();
  const ctxIndex = new Map(contextsList.map((x, i) => [x, i]));
  const C = contextsList.length;
  const n = items.length;
  const clicks = new Float64Array(C * n);
  const expo = new Float64Array(C * n);
  const ctxCount = new Array(C).fill(0);
  for (const r of body) {
    const c = ctxIndex.get(r[cu])!;
    const i = itemIndex.get(r[ci])!;
    ctxCount[c]++;
    clicks[c * n + i] += Number(r[cc]);
    expo[c * n + i] += examOfPos[Number(r[cp]) - 1];
  }
  // Item base attractiveness relative to the most examined slot.
  const base = items.map((x) => (pbm.attractiveness.get(x) ?? 0) * maxE);
  const meanBase = base.reduce((s, x) => s + x, 0) / n;
  const m = opts.shrink ?? 300;
  const attr = new Float64Array(C * n);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < n; i++) {
      const prior = 0.5 * base[i] + 0.5 * meanBase + 1e-4;
      attr[c * n + i] = Math.min(0.95, (clicks[c * n + i] + m * prior) / (expo[c * n + i] + m));
    }
  return {
    name: `obd-${campaign}`,
    contexts: C,
    contextWeights: ctxCount.map((x) => x / body.length),
    items,
    group: Int32Array.from(groupOf, (g) => groupNames.indexOf(g)),
    groupNames,
    attr,
    examination,
    slateSize: 3,
    candidates: Math.min(opts.candidates ?? 20, n),
    source: `${dir} (${body.length} logged impressions, ${body.reduce((s, r) => s + Number(r[cc]), 0)} clicks; PBM examination of positions 1-3: ${pbm.examination.map((x) => (x / maxE).toFixed(3)).join(', ')})`,
  };
}

/**
 * MovieLens-100K: a click is rating >= 4. Users in 8 clusters (gender x 4 age bands); attr(c, i) =
 * P(a user of cluster c rated item i >= 4) with a Beta(1, 1) prior, over the `topItems` most rated
 * movies; groups = the item's first genre. No positions in the data: examination 1/(k+1)^0.6.
 */
export function movielensWorld(dataDir: string, opts: { topItems?: number; candidates?: number; slateSize?: number } = {}): World {
  const dir = join(dataDir, 'ml-100k');
  const users = readFileSync(join(dir, 'u.user'), 'latin1')
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
  const ageBand = (a: number) => (a < 25 ? 0 : a < 35 ? 1 : a < 50 ? 2 : 3);
  const clusterOf = new Map(users.map((u) => [u[0], (u[2] === 'M' ? 0 : 4) + ageBand(Number(u[1]))]));
  const C = 8;
  const usersPer = new Array(C).fill(0);
  for (const c of clusterOf.values()) usersPer[c]++;
  const ratings = readFileSync(join(dir, 'u.data'), 'latin1')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const ratedCount = new Map<string, number>();
  for (const r of ratings) ratedCount.set(r[1], (ratedCount.get(r[1]) ?? 0) + 1);
  const top = [...ratedCount.entries()]
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
    .slice(0, opts.topItems ?? 400)
    .map((x) => x[0]);
  const idx = new Map(top.map((x, i) => [x, i]));
  const n = top.length;
  const likes = new Float64Array(C * n);
  for (const r of ratings) {
    const i = idx.get(r[1]);
    if (i === undefined || Number(r[2]) < 4) continue;
    likes[clusterOf.get(r[0])! * n + i]++;
  }
  const attr = new Float64Array(C * n);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) attr[c * n + i] = (likes[c * n + i] + 1) / (usersPer[c] + 2);
  const genres = readFileSync(join(dir, 'u.genre'), 'latin1')
    .trim()
    .split('\n')
    .map((l) => l.split('|')[0]);
  const itemRows = new Map(
    readFileSync(join(dir, 'u.item'), 'latin1')
      .trim()
      .split('\n')
      .map((l) => {
        const f = l.split('|');
        return [f[0], f.slice(-19).map(Number)] as const;
      }),
  );
  const first = top.map((id) => Math.max(0, itemRows.get(id)!.indexOf(1)));
  const used = [...new Set(first)].sort((a, b) => a - b);
  const size = opts.slateSize ?? 5;
  return {
    name: 'ml-100k',
    contexts: C,
    contextWeights: usersPer.map((x) => x / users.length),
    items: top,
    group: Int32Array.from(first, (g) => used.indexOf(g)),
    groupNames: used.map((g) => genres[g]),
    attr,
    examination: Array.from({ length: size }, (_, k) => 1 / Math.pow(k + 1, 0.6)),
    slateSize: size,
    candidates: opts.candidates ?? 30,
    source: `${dir} (${ratings.length} ratings, ${users.length} users in 8 clusters, top ${n} items)`,
  };
}

/** Per-seed randomness of a world: the ranker's noise and the request stream. */
export class Episode {
  readonly pctr: Float64Array;
  private readonly rng: Rng;
  private readonly cum: number[];

  constructor(
    readonly world: World,
    seed: number,
    noise = { slope: 0.8, item: 0.5, pair: 0.3 },
  ) {
    const r = new Rng(seed * 7919 + 1);
    const n = world.items.length;
    const u = Array.from({ length: n }, () => noise.item * r.normal());
    this.pctr = new Float64Array(world.attr.length);
    for (let c = 0; c < world.contexts; c++) for (let i = 0; i < n; i++) this.pctr[c * n + i] = sigmoid(noise.slope * logit(world.attr[c * n + i]) + u[i] + noise.pair * r.normal());
    this.rng = new Rng(seed * 7919 + 2);
    let acc = 0;
    this.cum = world.contextWeights.map((w) => (acc += w));
  }

  /** The t-th request: a user context and the candidate item indices (same for every policy of the seed). */
  request(): { context: number; candidates: number[] } {
    const u = this.rng.nextDouble() * this.cum[this.cum.length - 1];
    let context = this.cum.findIndex((x) => u < x);
    if (context < 0) context = this.cum.length - 1;
    const n = this.world.items.length;
    const pool = Array.from({ length: n }, (_, i) => i);
    const m = this.world.candidates;
    for (let k = 0; k < m; k++) {
      const j = k + this.rng.nextInt(n - k);
      [pool[k], pool[j]] = [pool[j], pool[k]];
    }
    return { context, candidates: pool.slice(0, m) };
  }
}
