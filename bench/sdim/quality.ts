import { BucketTables, DEFAULT_NORMALIZATION, NORMALIZATIONS, meanRowCosine, simhashKernelAttentionBatch, targetAttentionBatch, toRows, type Normalization, type SdimHasher } from '@recsys/sdim';
import { syntheticUser } from '@recsys/sdim/synthetic';
import { quantileSorted, sortedCopy } from '../common/stats';

/**
 * Approximation quality on synthetic users (libs/sdim syntheticUser), in memory: the interest from
 * BucketTables equals the interest from the stored blob bit for bit (libs/sdim codec spec), so the
 * quality of many users needs no Redis. Per user: 500 candidates, mean cosine between SDIM interest
 * and the SimHash-kernel attention, and between SDIM and softmax target attention, for each
 * normalisation; then the mean, and the spread over users for the default normalisation.
 */
export interface QualityRow {
  L: number;
  users: number;
  candidates: number;
  cosKernel: Record<Normalization, number>;
  /** Spread over users of the default normalisation's cosine to the kernel. */
  cosKernelPerUser: { min: number; p10: number; median: number; p90: number; max: number };
  cosSoftmax: Record<Normalization, number>;
  seeds: string;
}

const r4 = (x: number) => Number(x.toFixed(4));

export function mapValues<K extends string>(o: Record<K, number>, f: (x: number) => number): Record<K, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as number)])) as Record<K, number>;
}

/** User q of length L has seed 1000 + 10 L + q (the first three are the users session 1 measured). */
export const syntheticSeed = (L: number, q: number) => 1000 + 10 * L + q;

export function syntheticQuality(hasher: SdimHasher, L: number, users: number, candidates: number, log: (m: string) => void): QualityRow {
  const d = hasher.config.d;
  const zeros = () => Object.fromEntries(NORMALIZATIONS.map((n) => [n, 0])) as Record<Normalization, number>;
  const kern = zeros();
  const soft = zeros();
  const perUser: number[] = [];
  for (let q = 0; q < users; q++) {
    const u = syntheticUser({ seed: syntheticSeed(L, q), d, length: L, candidates });
    const t = new BucketTables(hasher);
    for (const x of u.history) t.add(x);
    const rows = toRows(u.history, d);
    const kernel = simhashKernelAttentionBatch(u.candidates, rows, hasher.config.tau);
    const softmax = targetAttentionBatch(u.candidates, rows);
    for (const n of NORMALIZATIONS) {
      const v = t.interestBatch(u.candidates, { normalize: n });
      const c = meanRowCosine(v, kernel, d);
      if (n === DEFAULT_NORMALIZATION) perUser.push(c);
      kern[n] += c;
      soft[n] += meanRowCosine(v, softmax, d);
    }
    if (L >= 10_000 && (q + 1) % 10 === 0) log(`quality L=${L}: ${q + 1}/${users} users`);
  }
  const s = sortedCopy(perUser);
  const at = (f: number) => quantileSorted(s, f);
  return {
    L,
    users,
    candidates,
    cosKernel: mapValues(kern, (x) => r4(x / users)),
    cosKernelPerUser: { min: r4(s[0]), p10: r4(at(0.1)), median: r4(at(0.5)), p90: r4(at(0.9)), max: r4(s[s.length - 1]) },
    cosSoftmax: mapValues(soft, (x) => r4(x / users)),
    seeds: `syntheticUser seed ${syntheticSeed(L, 0)}..${syntheticSeed(L, users - 1)}`,
  };
}
