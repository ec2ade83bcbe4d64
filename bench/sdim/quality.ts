import { BucketTables, meanRowCosine, simhashKernelAttentionBatch, targetAttentionBatch, toRows, type SdimHasher } from '../../libs/sdim/src';
import { syntheticUser } from '../../libs/sdim/src/synthetic';

/**
 * Approximation quality on synthetic users (libs/sdim syntheticUser), in memory: the interest from
 * BucketTables equals the interest from the stored blob bit for bit (libs/sdim codec spec), so the
 * quality of many users needs no Redis. Per user: 500 candidates, mean cosine between SDIM interest
 * and the SimHash-kernel attention (each normalisation), and between SDIM (l2) and softmax target
 * attention; then the mean and the spread over users.
 */
export interface QualityRow {
  L: number;
  users: number;
  candidates: number;
  cosKernel: Record<'l2' | 'count' | 'none', number>;
  /** Spread over users of the l2 cosine to the kernel. */
  cosKernelL2PerUser: { min: number; p10: number; median: number; p90: number; max: number };
  cosSoftmax: number;
  seeds: string;
}

const r4 = (x: number) => Number(x.toFixed(4));

/** User q of length L has seed 1000 + 10 L + q (the first three are the users session 1 measured). */
export const syntheticSeed = (L: number, q: number) => 1000 + 10 * L + q;

export function syntheticQuality(hasher: SdimHasher, L: number, users: number, candidates: number, log: (m: string) => void): QualityRow {
  const d = hasher.config.d;
  const acc = { l2: 0, count: 0, none: 0, soft: 0 };
  const perUser: number[] = [];
  for (let q = 0; q < users; q++) {
    const u = syntheticUser({ seed: syntheticSeed(L, q), d, length: L, candidates });
    const t = new BucketTables(hasher);
    for (const x of u.history) t.add(x);
    const rows = toRows(u.history, d);
    const kernel = simhashKernelAttentionBatch(u.candidates, rows, hasher.config.tau);
    const l2 = t.interestBatch(u.candidates, { normalize: 'l2' });
    const c = meanRowCosine(l2, kernel, d);
    perUser.push(c);
    acc.l2 += c;
    acc.count += meanRowCosine(t.interestBatch(u.candidates, { normalize: 'count' }), kernel, d);
    acc.none += meanRowCosine(t.interestBatch(u.candidates, { normalize: 'none' }), kernel, d);
    acc.soft += meanRowCosine(l2, targetAttentionBatch(u.candidates, rows), d);
    if (L >= 10_000 && (q + 1) % 10 === 0) log(`quality L=${L}: ${q + 1}/${users} users`);
  }
  const s = [...perUser].sort((a, b) => a - b);
  const at = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return {
    L,
    users,
    candidates,
    cosKernel: { l2: r4(acc.l2 / users), count: r4(acc.count / users), none: r4(acc.none / users) },
    cosKernelL2PerUser: { min: r4(s[0]), p10: r4(at(0.1)), median: r4(at(0.5)), p90: r4(at(0.9)), max: r4(s[s.length - 1]) },
    cosSoftmax: r4(acc.soft / users),
    seeds: `syntheticUser seed ${syntheticSeed(L, 0)}..${syntheticSeed(L, users - 1)}`,
  };
}
