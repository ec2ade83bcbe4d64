import { GaussianStream, SplitMix64 } from './prng';

/**
 * Seeded synthetic behaviour data for specs and benchmarks. A user has a few interests (unit
 * centroids); each behaviour is a centroid plus isotropic noise of norm about `spread`, normalised.
 * Candidates alternate: even ones near one of the user's interests, odd ones uniform on the sphere
 * (catalog items the user has no interest in).
 */
export interface SyntheticOptions {
  seed: number;
  d: number;
  /** History length. */
  length: number;
  /** Number of candidates. */
  candidates: number;
  /** Number of interests of the user. Default 5. */
  interests?: number;
  /** Noise norm around an interest centroid. Default 0.7. */
  spread?: number;
}

export interface SyntheticUser {
  centroids: Float32Array[];
  history: Float32Array[];
  candidates: Float32Array[];
}

export function syntheticUser(o: SyntheticOptions): SyntheticUser {
  const g = new GaussianStream(new SplitMix64(o.seed));
  const k = o.interests ?? 5;
  const spread = o.spread ?? 0.7;
  const unit = (v: Float64Array): Float32Array => {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n);
    return Float32Array.from(v, (x) => x / n);
  };
  const gauss = (scale: number) => Float64Array.from({ length: o.d }, () => scale * g.next());
  const near = (c: Float32Array) => {
    const noise = gauss(spread / Math.sqrt(o.d));
    return unit(noise.map((x, i) => x + c[i]));
  };
  const centroids = Array.from({ length: k }, () => unit(gauss(1)));
  // Interest weights are uneven (a user has a main interest and minor ones): cluster i has weight 1/(i+1).
  const w = centroids.map((_, i) => 1 / (i + 1));
  const wsum = w.reduce((a, b) => a + b, 0);
  const rng = new SplitMix64(o.seed + 1);
  const pick = () => {
    let u = rng.nextDouble() * wsum;
    for (let i = 0; i < k; i++) if ((u -= w[i]) < 0) return i;
    return k - 1;
  };
  const history = Array.from({ length: o.length }, () => near(centroids[pick()]));
  const candidates = Array.from({ length: o.candidates }, (_, i) => (i % 2 === 0 ? near(centroids[pick()]) : unit(gauss(1))));
  return { centroids, history, candidates };
}
