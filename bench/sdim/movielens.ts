import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BucketTables, GaussianStream, NORMALIZATIONS, SdimHasher, SplitMix64, meanRowCosine, simhashKernelAttentionBatch, targetAttentionBatch, type Normalization, type Rows } from '@recsys/sdim';
import { mapValues } from './quality';

/**
 * Approximation quality on real behaviour sequences: MovieLens 100K (u.data), a rating >= 4 is a
 * click, each user's clicks in time order form the history. Item embeddings (d = 64) come from a
 * truncated SVD of the user x item click matrix (randomised range finder, 2 power iterations):
 * item i -> Q^T a_i with Q the top-64 left singular subspace, L2-normalised. Like a learned
 * embedding, it places items that the same users click close together. Candidates: 500 catalog
 * items drawn uniformly. Runs in memory (quality only; timing is measured on synthetic data).
 */
export interface MovielensQuality {
  dataset: string;
  users: number;
  meanHistory: number;
  cosKernel: Record<Normalization, number>;
  cosSoftmax: Record<Normalization, number>;
}

export function movielensQuality(dir: string, d: number, hasher: SdimHasher, candidates = 500, minHistory = 50): MovielensQuality {
  const rows = readFileSync(join(dir, 'u.data'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number));
  const nu = Math.max(...rows.map((r) => r[0]));
  const ni = Math.max(...rows.map((r) => r[1]));
  const clicks = rows.filter((r) => r[2] >= 4);
  const byUser: number[][][] = Array.from({ length: nu }, () => []);
  for (const [u, i, , ts] of clicks) byUser[u - 1].push([i - 1, ts]);
  const emb = svdItemEmbeddings(
    byUser.map((l) => l.map(([i]) => i)),
    ni,
    d,
  );
  const g = new SplitMix64(3);
  const cands = Array.from({ length: candidates }, () => emb[Math.floor(g.nextDouble() * ni)]);
  const users = byUser.filter((l) => l.length >= minHistory);
  const zeros = () => Object.fromEntries(NORMALIZATIONS.map((n) => [n, 0])) as Record<Normalization, number>;
  const kern = zeros();
  const soft = zeros();
  let total = 0;
  for (const l of users) {
    l.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const hist = l.map(([i]) => emb[i]);
    total += hist.length;
    const t = new BucketTables(hasher);
    for (const x of hist) t.add(x);
    const data = new Float32Array(hist.length * d);
    hist.forEach((x, j) => data.set(x, j * d));
    const h: Rows = { data, rows: hist.length, cols: d };
    const kernel = simhashKernelAttentionBatch(cands, h, hasher.config.tau);
    const softmax = targetAttentionBatch(cands, h);
    for (const n of NORMALIZATIONS) {
      const v = t.interestBatch(cands, { normalize: n });
      kern[n] += meanRowCosine(v, kernel, d);
      soft[n] += meanRowCosine(v, softmax, d);
    }
  }
  const r4 = (x: number) => Number((x / users.length).toFixed(4));
  return {
    dataset: 'MovieLens 100K, rating >= 4 as click, users with >= ' + minHistory + ' clicks',
    users: users.length,
    meanHistory: Math.round(total / users.length),
    cosKernel: mapValues(kern, r4),
    cosSoftmax: mapValues(soft, r4),
  };
}

/** Rows of Q^T A (items x d) for the user x item 0/1 matrix A, Q = top-d range of A, L2-normalised rows. */
function svdItemEmbeddings(userItems: number[][], ni: number, d: number): Float32Array[] {
  const nu = userItems.length;
  const g = new GaussianStream(new SplitMix64(17));
  // A * M for an (ni x d) matrix M (row-major), giving (nu x d); A^T * Y for (nu x d), giving (ni x d).
  const aTimes = (m: Float64Array) => {
    const out = new Float64Array(nu * d);
    userItems.forEach((items, u) =>
      items.forEach((i) => {
        for (let k = 0; k < d; k++) out[u * d + k] += m[i * d + k];
      }),
    );
    return out;
  };
  const atTimes = (y: Float64Array) => {
    const out = new Float64Array(ni * d);
    userItems.forEach((items, u) =>
      items.forEach((i) => {
        for (let k = 0; k < d; k++) out[i * d + k] += y[u * d + k];
      }),
    );
    return out;
  };
  let q = orthonormalColumns(aTimes(Float64Array.from({ length: ni * d }, () => g.next())), nu, d);
  for (let it = 0; it < 2; it++) q = orthonormalColumns(aTimes(atTimes(q)), nu, d);
  const items = atTimes(q);
  return Array.from({ length: ni }, (_, i) => {
    const v = items.subarray(i * d, (i + 1) * d);
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return Float32Array.from(v, (x) => x / n);
  });
}

/** Modified Gram-Schmidt on the d columns of a row-major (n x d) matrix. */
function orthonormalColumns(a: Float64Array, n: number, d: number): Float64Array {
  for (let c = 0; c < d; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += a[r * d + c] * a[r * d + p];
      for (let r = 0; r < n; r++) a[r * d + c] -= dot * a[r * d + p];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += a[r * d + c] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < n; r++) a[r * d + c] /= norm;
  }
  return a;
}
