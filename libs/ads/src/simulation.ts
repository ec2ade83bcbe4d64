/**
 * Synthetic traffic for pacing tests and the ads benchmark: a diurnal intensity curve (night
 * trough, lunch and evening peaks), a seeded PRNG and Poisson / log-normal draws.
 */

/** Relative traffic intensity at an hour of the day (continuous, 0 <= h < 24). */
export function diurnalIntensity(h: number): number {
  const bump = (c: number, w: number) => {
    const d = ((h - c + 36) % 24) - 12;
    return Math.exp(-(d * d) / (2 * w * w));
  };
  return 0.15 + 0.55 * bump(12.5, 2.5) + 1.0 * bump(20.5, 2.2) + 0.25 * bump(8, 1.5);
}

/** Share of a day's traffic in each of `buckets` equal periods. */
export function diurnalShares(buckets = 24, steps = 60): number[] {
  const out = new Array(buckets).fill(0);
  for (let b = 0; b < buckets; b++) {
    for (let s = 0; s < steps; s++) out[b] += diurnalIntensity(((b + (s + 0.5) / steps) * 24) / buckets);
  }
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / sum);
}

/** mulberry32, the repository's one seeded PRNG (libs/ann). */
export { mulberry32 as seededRandom } from '@recsys/ann/synthetic';

/** Poisson draw (Knuth for small means, normal approximation above 50). */
export function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

export function gaussian(rand: () => number): number {
  const u = Math.max(1e-12, rand());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function logNormal(rand: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * gaussian(rand));
}
