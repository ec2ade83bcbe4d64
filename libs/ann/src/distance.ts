import type { Metric } from './vector-index.port';

/**
 * Distance kernels over row-major Float32Array storage. They follow hnswlib's definitions so the
 * exact index and the HNSW index report identical numbers: l2 = squared euclidean, ip = 1 - dot,
 * cosine = 1 - dot of vectors normalised on the way in (vectors are stored normalised).
 */

/** Squared euclidean distance between a (at aOff) and b (at bOff); 4-way unrolled. */
export function l2sq(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  const end4 = dim - (dim & 3);
  for (; j < end4; j += 4) {
    const d0 = a[aOff + j] - b[bOff + j];
    const d1 = a[aOff + j + 1] - b[bOff + j + 1];
    const d2 = a[aOff + j + 2] - b[bOff + j + 2];
    const d3 = a[aOff + j + 3] - b[bOff + j + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < dim; j++) {
    const d = a[aOff + j] - b[bOff + j];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Dot product; 4-way unrolled. */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  const end4 = dim - (dim & 3);
  for (; j < end4; j += 4) {
    s0 += a[aOff + j] * b[bOff + j];
    s1 += a[aOff + j + 1] * b[bOff + j + 1];
    s2 += a[aOff + j + 2] * b[bOff + j + 2];
    s3 += a[aOff + j + 3] * b[bOff + j + 3];
  }
  for (; j < dim; j++) s0 += a[aOff + j] * b[bOff + j];
  return s0 + s1 + s2 + s3;
}

/** Normalises in place the way hnswlib does (1 / (|v| + 1e-30)), so a zero vector stays zero. */
export function normalizeInPlace(v: Float32Array, off = 0, dim = v.length): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[off + j] * v[off + j];
  const inv = 1 / (Math.sqrt(s) + 1e-30);
  for (let j = 0; j < dim; j++) v[off + j] *= inv;
}

/** Copies a query or item vector into a Float32Array, normalised for cosine. */
export function prepareVector(v: Float32Array | number[], dim: number, metric: Metric, out?: Float32Array): Float32Array {
  if (v.length !== dim) throw new Error(`vector has dimension ${v.length}, index has ${dim}`);
  const dst = out ?? new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const x = v[j];
    if (!Number.isFinite(x)) throw new Error(`vector component ${j} is not a finite number`);
    dst[j] = x;
  }
  if (metric === 'cosine') normalizeInPlace(dst, 0, dim);
  return dst;
}

/** The metric's distance between a prepared query q and the stored row at off. */
export function distanceAt(metric: Metric, q: Float32Array, data: Float32Array, off: number, dim: number): number {
  return metric === 'l2' ? l2sq(q, 0, data, off, dim) : 1 - dot(q, 0, data, off, dim);
}
