import type { SimdMemory } from './simd-memory';

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

/** Members are scored against the centres in chunks of this many rows (copied into SIMD memory). */
const CHUNK = 2048;

/**
 * k-means with a size penalty in the assignment (SPTAG's balanced k-means): a point goes to the
 * cluster minimising d(x, c_j) + lambda * size_j, with sizes from the previous pass, so big
 * clusters shed their boundary points to smaller neighbours and posting lists come out even.
 *
 * data holds points of `dim` floats; members are the row indices to cluster. Distances run in
 * the SIMD kernels: the training sample is copied into `sm` once, members stream through in chunks.
 */
export function balancedKmeans(data: Float32Array, dim: number, members: Uint32Array, opts: KmeansOptions, sm: SimdMemory): KmeansResult {
  const n = members.length;
  const k = Math.max(1, Math.min(opts.k, n));
  const sample = pickSample(members, Math.max(k, opts.trainSample), opts.rand);
  const S = sample.length;
  const rowBytes = dim * 4;
  const samplePtr = sm.alloc(S * rowBytes);
  const cPtr = sm.alloc(k * rowBytes);
  const outPtr = sm.alloc(k * Math.max(S, CHUNK) * 4);
  const chunkPtr = sm.alloc(Math.min(CHUNK, n) * rowBytes);
  const assignPtr = sm.alloc(Math.max(S, Math.min(CHUNK, n)) * 4);
  const sumsPtr = sm.alloc(k * rowBytes);
  try {
    copyRows(sm, data, dim, sample, 0, S, samplePtr);
    initPlusPlus(sm, data, dim, sample, k, opts.rand, samplePtr, cPtr, outPtr);
    const centroids = sm.f32().slice(cPtr >> 2, (cPtr >> 2) + k * dim);
    const sums = new Float64Array(k * dim);
    let counts = new Uint32Array(k);
    let lambda = 0;
    const sAssign = new Uint32Array(S);
    for (let it = 0; it < opts.iters; it++) {
      const newCounts = new Uint32Array(k);
      scoreRows(sm, cPtr, k, samplePtr, S, dim, outPtr);
      const meanDist = pickClusters(sm, outPtr, S, k, counts, lambda, sAssign, 0, newCounts);
      sums.fill(0);
      addRows(sm, samplePtr, S, dim, sAssign, 0, assignPtr, sumsPtr, k, sums);
      meansFromSums(sums, newCounts, k, dim, centroids);
      reseedEmpty(data, dim, sample, sAssign, newCounts, centroids, opts.rand);
      sm.f32().set(centroids, cPtr >> 2);
      counts = newCounts;
      lambda = (opts.balanceFactor * meanDist) / (S / k);
    }
    // Final pass over every member with the trained centres and the same per-fraction penalty.
    const assign = new Uint32Array(n);
    const finalCounts = new Uint32Array(k);
    const scale = S / n;
    const scaled = new Uint32Array(k);
    for (let j = 0; j < k; j++) scaled[j] = Math.round(counts[j] / scale);
    sums.fill(0);
    for (let s = 0; s < n; s += CHUNK) {
      const c = Math.min(CHUNK, n - s);
      copyRows(sm, data, dim, members, s, c, chunkPtr);
      scoreRows(sm, cPtr, k, chunkPtr, c, dim, outPtr);
      pickClusters(sm, outPtr, c, k, scaled, lambda * scale, assign, s, finalCounts);
      addRows(sm, chunkPtr, c, dim, assign, s, assignPtr, sumsPtr, k, sums);
    }
    meansFromSums(sums, finalCounts, k, dim, centroids);
    return { k, assign, centroids, counts: finalCounts };
  } finally {
    sm.free(sumsPtr);
    sm.free(assignPtr);
    sm.free(chunkPtr);
    sm.free(outPtr);
    sm.free(cPtr);
    sm.free(samplePtr);
  }
}

function copyRows(sm: SimdMemory, data: Float32Array, dim: number, rows: Uint32Array, from: number, count: number, ptr: number): void {
  const f = sm.f32();
  let at = ptr >> 2;
  for (let i = 0; i < count; i++, at += dim) {
    const off = rows[from + i] * dim;
    f.set(data.subarray(off, off + dim), at);
  }
}

/** out[j * count + i] = |row_i - c_j|^2 for the k centres at cPtr. */
function scoreRows(sm: SimdMemory, cPtr: number, k: number, rowsPtr: number, count: number, dim: number, outPtr: number): void {
  for (let j = 0; j < k; j++) sm.k.l2_rows(cPtr + j * dim * 4, rowsPtr, count, dim * 4, dim, outPtr + j * count * 4);
}

/** Assigns rows by penalised distance; returns the mean unpenalised distance. */
function pickClusters(sm: SimdMemory, outPtr: number, count: number, k: number, prevCounts: Uint32Array, lambda: number, out: Uint32Array, outOff: number, outCounts: Uint32Array): number {
  const f = sm.f32();
  const o = outPtr >> 2;
  let sumDist = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    let bestCost = Infinity;
    let bestDist = 0;
    for (let j = 0; j < k; j++) {
      const d = f[o + j * count + i];
      const cost = d + lambda * prevCounts[j];
      if (cost < bestCost) {
        bestCost = cost;
        best = j;
        bestDist = d;
      }
    }
    out[outOff + i] = best;
    outCounts[best]++;
    sumDist += bestDist;
  }
  return count > 0 ? sumDist / count : 0;
}

/**
 * sums += per-cluster sums of `count` rows at rowsPtr (assign[from..from+count)), via the SIMD
 * kernel: f32 partial sums per call (at most one chunk), accumulated here in f64.
 */
function addRows(sm: SimdMemory, rowsPtr: number, count: number, dim: number, assign: Uint32Array, from: number, assignPtr: number, sumsPtr: number, k: number, sums: Float64Array): void {
  sm.u32().set(assign.subarray(from, from + count), assignPtr >> 2);
  const f = sm.f32();
  const at = sumsPtr >> 2;
  f.fill(0, at, at + k * dim);
  sm.k.add_rows(rowsPtr, count, dim, assignPtr, sumsPtr);
  for (let i = 0; i < k * dim; i++) sums[i] += f[at + i];
}

function meansFromSums(sums: Float64Array, counts: Uint32Array, k: number, dim: number, centroids: Float32Array): void {
  for (let j = 0; j < k; j++) {
    if (counts[j] === 0) continue;
    const inv = 1 / counts[j];
    for (let t = 0; t < dim; t++) centroids[j * dim + t] = sums[j * dim + t] * inv;
  }
}

/** An empty cluster takes a random member of the largest one, so k stays effective. */
function reseedEmpty(data: Float32Array, dim: number, rows: Uint32Array, assign: Uint32Array, counts: Uint32Array, centroids: Float32Array, rand: () => number): void {
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

/** k-means++ seeding (D^2 sampling) on the sample, centres written at cPtr. */
function initPlusPlus(sm: SimdMemory, data: Float32Array, dim: number, rows: Uint32Array, k: number, rand: () => number, samplePtr: number, cPtr: number, outPtr: number): void {
  const n = rows.length;
  const best = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(rand() * n);
  for (let j = 0; j < k; j++) {
    const f = sm.f32();
    const off = rows[pick] * dim;
    for (let t = 0; t < dim; t++) f[(cPtr >> 2) + j * dim + t] = data[off + t];
    sm.k.l2_rows(cPtr + j * dim * 4, samplePtr, n, dim * 4, dim, outPtr);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = f[(outPtr >> 2) + i];
      if (d < best[i]) best[i] = d;
      total += best[i];
    }
    pick = Math.floor(rand() * n);
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
  }
}
