import { sdimNative } from './kernels/native';
import { GaussianStream, SplitMix64 } from './prng';

/** Parameters that fix the hash functions. Both sides of the wire must use the same ones. */
export interface SdimConfig {
  /** uint32 seed of the splitmix64 stream that draws the hyperplanes. */
  seed: number;
  /** Number of hyperplanes (hash codes per vector); a multiple of tau. Paper: 48. */
  m: number;
  /** Bits per signature; each signature selects one of 2^tau buckets. Paper: 3. */
  tau: number;
  /** Embedding dimension. */
  d: number;
}

export type Vector = Float32Array | Float64Array | readonly number[];

/** Up to 256 buckets per group; a bucket index (group * 2^tau + signature) must fit a uint16. */
export const MAX_TAU = 8;

export function validateConfig(c: SdimConfig): void {
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) throw new RangeError(`seed must be a uint32, got ${c.seed}`);
  if (!Number.isInteger(c.tau) || c.tau < 1 || c.tau > MAX_TAU) throw new RangeError(`tau must be in 1..${MAX_TAU}, got ${c.tau}`);
  if (!Number.isInteger(c.m) || c.m < c.tau || c.m % c.tau !== 0 || c.m > 0xffff) {
    throw new RangeError(`m must be a positive multiple of tau (${c.tau}) below 65536, got ${c.m}`);
  }
  if ((c.m / c.tau) * (1 << c.tau) > 0x10000) throw new RangeError(`m/tau * 2^tau must be at most 65536 buckets`);
  if (!Number.isInteger(c.d) || c.d < 1 || c.d > 0xffff) throw new RangeError(`d must be in 1..65535, got ${c.d}`);
}

/**
 * Draws the m x d hyperplane matrix R: Gaussian deviates from GaussianStream(SplitMix64(seed)),
 * consumed row by row (R[i][k] at index i*d + k). Stored as float64, as drawn.
 */
export function hyperplanes(c: SdimConfig): Float64Array {
  validateConfig(c);
  const g = new GaussianStream(new SplitMix64(c.seed));
  const r = new Float64Array(c.m * c.d);
  for (let i = 0; i < r.length; i++) r[i] = g.next();
  return r;
}

/**
 * SimHash with fixed random hyperplanes (SDIM, Cao et al. 2022).
 * code_i(x) = 1 when dot(R_i, x) > 0 else 0, the dot product accumulated in float64 from 0 in index
 * order; signature_j(x) = sum over b < tau of code_{j*tau+b}(x) << b, for j < m/tau.
 */
export class SdimHasher {
  readonly config: Readonly<SdimConfig>;
  /** Number of signatures (signature groups) per vector: m / tau. */
  readonly groups: number;
  /** Buckets per signature group: 2^tau. */
  readonly buckets: number;
  readonly r: Float64Array;
  private readonly xd: Float64Array;
  private readonly codeScratch: Uint8Array;

  constructor(config: SdimConfig) {
    validateConfig(config);
    this.config = Object.freeze({ ...config });
    this.groups = config.m / config.tau;
    this.buckets = 1 << config.tau;
    this.r = hyperplanes(config);
    this.xd = new Float64Array(config.d);
    this.codeScratch = new Uint8Array(config.m);
  }

  /** The m codes (0/1) of x. */
  codes(x: Vector, out: Uint8Array = new Uint8Array(this.config.m)): Uint8Array {
    this.checkDim(x);
    const { m, d } = this.config;
    const r = this.r;
    const xd = this.xd;
    for (let k = 0; k < d; k++) xd[k] = x[k];
    // Four hyperplanes per pass over x; each dot product is still accumulated on its own, from 0
    // in index order, so the results are those of the plain loop (SPEC.md section 2).
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const b0 = i * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < d; k++) {
        const v = xd[k];
        a0 += r[b0 + k] * v;
        a1 += r[b1 + k] * v;
        a2 += r[b2 + k] * v;
        a3 += r[b3 + k] * v;
      }
      out[i] = a0 > 0 ? 1 : 0;
      out[i + 1] = a1 > 0 ? 1 : 0;
      out[i + 2] = a2 > 0 ? 1 : 0;
      out[i + 3] = a3 > 0 ? 1 : 0;
    }
    for (; i < m; i++) {
      let dot = 0;
      const base = i * d;
      for (let k = 0; k < d; k++) dot += r[base + k] * xd[k];
      out[i] = dot > 0 ? 1 : 0;
    }
    return out;
  }

  /** The m/tau signatures of x, each in [0, 2^tau). */
  signatures(x: Vector, out: Uint16Array = new Uint16Array(this.groups)): Uint16Array {
    const codes = this.codes(x, this.codeScratch);
    const tau = this.config.tau;
    for (let j = 0; j < this.groups; j++) {
      let sig = 0;
      for (let b = 0; b < tau; b++) sig |= codes[j * tau + b] << b;
      out[j] = sig;
    }
    return out;
  }

  /** Signatures of n vectors, row-major [n][m/tau]. */
  signaturesBatch(xs: readonly Vector[]): Uint16Array {
    const d = this.config.d;
    const rows = new Float64Array(xs.length * d);
    for (let n = 0; n < xs.length; n++) {
      this.checkDim(xs[n]);
      for (let k = 0; k < d; k++) rows[n * d + k] = xs[n][k];
    }
    return this.signaturesRows(rows);
  }

  /**
   * Signatures of the n = xs.length / d vectors stored row-major in xs, into out [n][m/tau]: one
   * batched kernel (native/sdim when built: the dot products of a vector with every hyperplane in
   * SIMD lanes; else signatures() row by row). Bit for bit signatures() of each row either way.
   * With bucketOffset, group j holds j * 2^tau + signature (the bucket index, as bucketIndexes()).
   */
  signaturesRows(xs: Float32Array | Float64Array, out?: Uint16Array, options: { bucketOffset?: boolean } = {}): Uint16Array {
    const { d, m, tau } = this.config;
    if (xs.length % d !== 0) throw new RangeError(`${xs.length} values are not rows of dimension ${d}`);
    const n = xs.length / d;
    const g = this.groups;
    const o = out ?? new Uint16Array(n * g);
    if (o.length < n * g) throw new RangeError(`out holds ${o.length} signatures, ${n * g} needed`);
    const native = sdimNative();
    if (native) {
      native.signatures(this.transposed(), m, tau, d, xs, o, options.bucketOffset === true);
      return o;
    }
    for (let i = 0; i < n; i++) {
      const row = o.subarray(i * g, (i + 1) * g);
      this.signatures(xs.subarray(i * d, (i + 1) * d), row);
      if (options.bucketOffset) for (let j = 0; j < g; j++) row[j] += j * this.buckets;
    }
    return o;
  }

  private rt?: Float64Array;

  /** R transposed (d x m, rt[k * m + i] = R[i][k]): the layout of the native kernel. */
  private transposed(): Float64Array {
    if (!this.rt) {
      const { m, d } = this.config;
      const rt = new Float64Array(m * d);
      for (let i = 0; i < m; i++) for (let k = 0; k < d; k++) rt[k * m + i] = this.r[i * d + k];
      this.rt = rt;
    }
    return this.rt;
  }

  /** Bucket index (group * 2^tau + signature) of each group, the layout of BucketTables. */
  bucketIndexes(x: Vector, out: Uint16Array = new Uint16Array(this.groups)): Uint16Array {
    this.signatures(x, out);
    for (let j = 0; j < this.groups; j++) out[j] += j * this.buckets;
    return out;
  }

  private checkDim(x: Vector): void {
    if (x.length !== this.config.d) throw new RangeError(`vector has dimension ${x.length}, expected ${this.config.d}`);
  }
}

/** Signatures derived from the m codes (for tests and for callers that already have codes). */
export function signaturesFromCodes(codes: Uint8Array, tau: number): Uint16Array {
  const g = codes.length / tau;
  const out = new Uint16Array(g);
  for (let j = 0; j < g; j++) {
    let sig = 0;
    for (let b = 0; b < tau; b++) if (codes[j * tau + b]) sig |= 1 << b;
    out[j] = sig;
  }
  return out;
}
