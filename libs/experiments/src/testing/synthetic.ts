// Seeded synthetic data for the experiments specs and benchmark (no Math.random anywhere).

/** mulberry32, the repository's one seeded PRNG (libs/ann). */
export { mulberry32 as rng } from '@recsys/ann/synthetic';

/** Standard normal draws (Box-Muller). */
export function gaussian(next: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Poisson draw (Knuth; fine for the small means used here). */
export function poisson(next: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= next();
  } while (p > l);
  return k - 1;
}
