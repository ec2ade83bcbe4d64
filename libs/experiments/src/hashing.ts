/**
 * GrowthBook SDK hashing (@growthbook/growthbook src/util.ts), reproduced bit for bit so a
 * frontend running GrowthBook's SDK on the same experiment definition picks the same variant.
 */

/** 32-bit FNV-1a over UTF-16 code units, as the SDK computes it. */
export function fnv32a(str: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h += (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24);
  }
  return h >>> 0;
}

export const FNV_BASIS = 0x811c9dc5 | 0;

/**
 * FNV-1a is a stream: the state after `seed` continues over `value`, so fnv32a(seed + value) =
 * fnvContinue(fnvContinue(FNV_BASIS, seed), value) >>> 0 without building the string. The SDK
 * keeps the state in a double and truncates at the next XOR; `| 0` after each step is the same mod 2^32.
 */
export function fnvContinue(state: number, str: string): number {
  let h = state;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) | 0;
  }
  return h;
}

const digits = new Uint8Array(10);
/** fnv32a(String(n)) for a uint32 n, without the string. */
function fnvOfDecimal(n: number): number {
  let k = 0;
  do {
    digits[k++] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  let h = FNV_BASIS;
  while (k > 0) {
    h ^= digits[--k];
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) | 0;
  }
  return h >>> 0;
}

/** Hash version 2 of `value` from a precomputed seed state (fnvContinue(FNV_BASIS, seed)). */
export function gbHashV2From(seedState: number, value: string): number {
  return (fnvOfDecimal(fnvContinue(seedState, value) >>> 0) % 10000) / 10000;
}

/** The SDK's hash: version 2 (unbiased, 10,000 buckets) or version 1 (legacy, 1,000 buckets). Result in [0, 1). */
export function gbHash(seed: string, value: string, version: 1 | 2 = 2): number {
  if (version === 2) return gbHashV2From(fnvContinue(FNV_BASIS, seed), value);
  return (fnv32a(value + seed) % 1000) / 1000;
}

export type Range = readonly [number, number];

export const inRange = (n: number, r: Range): boolean => n >= r[0] && n < r[1];

/**
 * Bucket ranges of the variants (getBucketRanges): variant i owns [c_i, c_i + coverage * w_i)
 * with c_i the cumulative weight before it. Raising coverage only widens each range from its
 * fixed start, so a user already in a variant stays in it during a ramp.
 */
export function bucketRanges(weights: readonly number[], coverage = 1): Range[] {
  const cov = Math.min(1, Math.max(0, coverage));
  let cumulative = 0;
  return weights.map((w) => {
    const start = cumulative;
    cumulative += w;
    return [start, start + cov * w] as const;
  });
}

/** Index of the range holding n, or -1 (outside coverage). */
export function chooseVariation(n: number, ranges: readonly Range[]): number {
  for (let i = 0; i < ranges.length; i++) if (inRange(n, ranges[i])) return i;
  return -1;
}
