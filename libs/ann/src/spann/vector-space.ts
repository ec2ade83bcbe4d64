import type { Metric } from '../vector-index.port';
import { dot, normalizeAt, normSq } from './vector-math';

/**
 * The two spaces a SPANN index works in.
 *
 * - Stored space (dim floats, on disk in the posting lists): what exact re-scoring reads.
 *   l2 and ip store the vector as given; cosine stores it normalised, so 1 - cos = 1 - dot.
 * - Routing space (always squared L2, in memory: centroids, clustering, RNG rule, pruning):
 *   l2 and cosine route on the stored vector (for unit vectors |a-b|^2 = 2 - 2cos, monotone in
 *   the cosine distance); ip routes on the MIPS-to-L2 reduction x' = [x, sqrt(M^2 - |x|^2)],
 *   q' = [q, 0], for which |q'-x'|^2 = |q|^2 + M^2 - 2 q.x is monotone in 1 - q.x (M = the
 *   largest norm seen when the index was built or bootstrapped). A vector inserted later with a
 *   norm above M gets 0 as its extra coordinate: routing for it is then approximate, re-scoring
 *   stays exact.
 *
 * Query-aware pruning (maxDistRatio) is therefore always a ratio of squared routing distances.
 */
export class VectorSpace {
  readonly routingDim: number;

  constructor(
    readonly metric: Metric,
    readonly dim: number,
    /** M^2 of the ip reduction; 0 until known (ignored by l2 and cosine). */
    public ipMaxNormSq = 0,
  ) {
    this.routingDim = metric === 'ip' ? dim + 1 : dim;
  }

  /** Copies v into out[off..off+dim) in stored form. */
  toStored(v: ArrayLike<number>, out: Float32Array, off: number): void {
    const d = this.dim;
    for (let i = 0; i < d; i++) out[off + i] = v[i];
    if (this.metric === 'cosine') normalizeAt(out, off, d);
  }

  /** Writes the routing form of a stored vector src[sOff..) into out[off..off+routingDim). */
  toRouting(src: Float32Array, sOff: number, out: Float32Array, off: number): void {
    const d = this.dim;
    for (let i = 0; i < d; i++) out[off + i] = src[sOff + i];
    if (this.metric === 'ip') {
      const extra = this.ipMaxNormSq - normSq(src, sOff, d);
      out[off + d] = extra > 0 ? Math.sqrt(extra) : 0;
    }
  }

  /** Query forms: qStored for re-scoring, qRouting for the centroid search (ip: extra coordinate 0). */
  prepareQuery(q: ArrayLike<number>, qStored: Float32Array, qRouting: Float32Array): void {
    if (q instanceof Float32Array) {
      qStored.set(q); // same element type: a memcpy (a generic loop costs ~2-3 ns per dim)
      if (this.metric === 'cosine') normalizeAt(qStored, 0, this.dim);
    } else this.toStored(q, qStored, 0);
    qRouting.set(qStored);
    if (this.metric === 'ip') qRouting[this.dim] = 0;
  }

  /** Distance in the port's convention (l2 squared, ip 1 - dot, cosine 1 - cos on stored vectors). */
  distance(q: Float32Array, data: Float32Array, off: number): number {
    if (this.metric === 'l2') {
      let s = 0;
      for (let i = 0; i < this.dim; i++) {
        const t = q[i] - data[off + i];
        s += t * t;
      }
      return s;
    }
    return 1 - dot(q, 0, data, off, this.dim);
  }

  /** Raises M^2 for ip (used while building / bootstrapping, before any routing vector exists). */
  observeNorm(v: Float32Array, off: number): void {
    if (this.metric !== 'ip') return;
    const n = normSq(v, off, this.dim);
    if (n > this.ipMaxNormSq) this.ipMaxNormSq = n;
  }
}
