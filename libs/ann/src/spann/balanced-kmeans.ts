import { l2sq } from './vector-math';

export interface KmeansOptions {
  k: number;
  iters: number;
  /** lambda = balanceFactor * meanDist / (n / k); see SpannParams.balanceFactor. */
  balanceFactor: number;
  /** Train on at most this many members (uniform sample), then assign all of them. */
  trainSample: number;
  rand: () => number;
}

export interface KmeansResult {
  k: number;
  /** Cluster of each member, parallel to `members`. */
  assign: Uint32Array;
  /** k x dim means over all members assigned to each cluster (a cluster may be empty). */
  centroids: Float32Array;
  counts: Uint32Array;
}

/**
 * k-means with a size penalty in the assignment (SPTAG's balanced k-means): a point goes to the
 * cluster minimising d(x, c_j) + lambda * size_j, with sizes from the previous pass, so big
 * clusters shed their boundary points to smaller neighbours and posting lists come out even.
 *
 * data holds points of `dim` floats; members are the row indices to cluster.
 */
export function balancedKmeans(data: Float32Array, dim: number, members: Uint32Array, opts: KmeansOptions): KmeansResult {
  const n = members.length;
  const k = Math.max(1, Math.min(opts.k, n));
  const sample = pickSample(members, Math.max(k, opts.trainSample), opts.rand);
  const centroids = initPlusPlus(data, dim, sample, k, opts.rand);
  const sums = new Float64Array(k * dim);
  let counts = new Uint32Array(k);
  let lambda = 0;
  const sAssign = new Uint32Array(sample.length);
  for (let it = 0; it < opts.iters; it++) {
    const newCounts = new Uint32Array(k);
    const meanDist = assignAll(data, dim, sample, centroids, k, counts, lambda, sAssign, newCounts);
    recomputeMeans(data, dim, sample, sAssign, k, newCounts, sums, centroids);
    reseedEmpty(data, dim, sample, sAssign, newCounts, centroids, opts.rand);
    counts = newCounts;
    lambda = (opts.balanceFactor * meanDist) / (sample.length / k);
  }
  if (opts.iters === 0) lambda = 0;
  // Final pass over every member with the trained centres and the sample's size penalty,
  // scaled to the member count so the penalty per "fraction of the node" stays the same.
  const assign = new Uint32Array(n);
  const finalCounts = new Uint32Array(k);
  const scale = sample.length / n;
  const scaled = new Uint32Array(k);
  for (let j = 0; j < k; j++) scaled[j] = Math.round(counts[j] / scale);
  assignAll(data, dim, members, centroids, k, scaled, lambda * scale, assign, finalCounts);
  recomputeMeans(data, dim, members, assign, k, finalCounts, sums, centroids);
  return { k, assign, centroids, counts: finalCounts };
}

function assignAll(
  data: Float32Array,
  dim: number,
  rows: Uint32Array,
  centroids: Float32Array,
  k: number,
  prevCounts: Uint32Array,
  lambda: number,
  out: Uint32Array,
  outCounts: Uint32Array,
): number {
  let sumDist = 0;
  for (let i = 0; i < rows.length; i++) {
    const off = rows[i] * dim;
    let best = 0;
    let bestCost = Infinity;
    let bestDist = 0;
    for (let j = 0; j < k; j++) {
      const d = l2sq(data, off, centroids, j * dim, dim);
      const cost = d + lambda * prevCounts[j];
      if (cost < bestCost) {
        bestCost = cost;
        best = j;
        bestDist = d;
      }
    }
    out[i] = best;
    outCounts[best]++;
    sumDist += bestDist;
  }
  return rows.length > 0 ? sumDist / rows.length : 0;
}

function recomputeMeans(
  data: Float32Array,
  dim: number,
  rows: Uint32Array,
  assign: Uint32Array,
  k: number,
  counts: Uint32Array,
  sums: Float64Array,
  centroids: Float32Array,
): void {
  sums.fill(0);
  for (let i = 0; i < rows.length; i++) {
    const off = rows[i] * dim;
    const c = assign[i] * dim;
    for (let t = 0; t < dim; t++) sums[c + t] += data[off + t];
  }
  for (let j = 0; j < k; j++) {
    if (counts[j] === 0) continue;
    const inv = 1 / counts[j];
    for (let t = 0; t < dim; t++) centroids[j * dim + t] = sums[j * dim + t] * inv;
  }
}

/** An empty cluster takes a random member of the largest one, so k stays effective. */
function reseedEmpty(
  data: Float32Array,
  dim: number,
  rows: Uint32Array,
  assign: Uint32Array,
  counts: Uint32Array,
  centroids: Float32Array,
  rand: () => number,
): void {
  for (let j = 0; j < counts.length; j++) {
    if (counts[j] !== 0) continue;
    let big = 0;
    for (let t = 1; t < counts.length; t++) if (counts[t] > counts[big]) big = t;
    if (counts[big] < 2) return;
    const start = Math.floor(rand() * rows.length);
    for (let s = 0; s < rows.length; s++) {
      const i = (start + s) % rows.length;
      if (assign[i] !== big) continue;
      const off = rows[i] * dim;
      for (let t = 0; t < dim; t++) centroids[j * dim + t] = data[off + t];
      assign[i] = j;
      counts[big]--;
      counts[j]++;
      break;
    }
  }
}

function pickSample(members: Uint32Array, size: number, rand: () => number): Uint32Array {
  if (members.length <= size) return members;
  const copy = members.slice();
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rand() * (copy.length - i));
    const t = copy[i];
    copy[i] = copy[j];
    copy[j] = t;
  }
  return copy.subarray(0, size);
}

/** k-means++ seeding (D^2 sampling) on the sample. */
function initPlusPlus(data: Float32Array, dim: number, rows: Uint32Array, k: number, rand: () => number): Float32Array {
  const centroids = new Float32Array(k * dim);
  const n = rows.length;
  const first = rows[Math.floor(rand() * n)] * dim;
  for (let t = 0; t < dim; t++) centroids[t] = data[first + t];
  const best = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    best[i] = l2sq(data, rows[i] * dim, centroids, 0, dim);
    total += best[i];
  }
  for (let j = 1; j < k; j++) {
    let pick = Math.floor(rand() * n);
    if (total > 0) {
      let r = rand() * total;
      for (let i = 0; i < n; i++) {
        r -= best[i];
        if (r <= 0) {
          pick = i;
          break;
        }
      }
    }
    const off = rows[pick] * dim;
    for (let t = 0; t < dim; t++) centroids[j * dim + t] = data[off + t];
    total = 0;
    for (let i = 0; i < n; i++) {
      const d = l2sq(data, rows[i] * dim, centroids, j * dim, dim);
      if (d < best[i]) best[i] = d;
      total += best[i];
    }
  }
  return centroids;
}
