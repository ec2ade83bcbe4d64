/**
 * Deterministic random numbers that the Python side reproduces bit for bit (see ../SPEC.md).
 *
 * Why not Math.random / Box-Muller with Math.log and Math.cos: the libm behind Python's math.log
 * and V8's Math.log may differ in the last bit, which would move a hyperplane by one ulp and can
 * flip a code. Everything here uses only IEEE-754 float64 + - * / and sqrt (correctly rounded on
 * both sides, no fused multiply-add in either), so both sides produce identical doubles.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const MIX1 = 0xbf58476d1ce4e5b9n;
const MIX2 = 0x94d049bb133111ebn;
const TWO_POW_NEG53 = 1 / 9007199254740992; // 2^-53, exact

/** splitmix64 (Steele, Lea, Flood 2014). The state is a uint64 held in a BigInt. */
export class SplitMix64 {
  private state: bigint;

  constructor(seed: number | bigint) {
    const s = BigInt(seed);
    if (s < 0n || s > MASK64) throw new RangeError(`seed must be a uint64, got ${seed}`);
    this.state = s;
  }

  /** Next 64-bit output. */
  nextU64(): bigint {
    this.state = (this.state + GOLDEN) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * MIX1) & MASK64;
    z = ((z ^ (z >> 27n)) * MIX2) & MASK64;
    return z ^ (z >> 31n);
  }

  /** Uniform double in [0, 1): the top 53 bits of the next output times 2^-53 (exact). */
  nextDouble(): number {
    return Number(this.nextU64() >> 11n) * TWO_POW_NEG53;
  }
}

/** The float64 literal of ln 2 used by detLog (0x3FE62E42FEFA39EF). */
export const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;
/** Number of odd terms of the atanh series in detLog; |t| < 0.1716 makes the 30th term < 1e-40. */
const LOG_TERMS = 30;

/**
 * Natural logarithm of a finite x > 0 using only + - * / (deterministic across languages).
 * Accurate to a few ulp; it does not need to be correctly rounded, only identical on both sides.
 *   1. x = mant * 2^e with mant in [sqrt(1/2), sqrt(2)), by exact multiplications by 2 or 1/2;
 *   2. t = (mant - 1) / (mant + 1), ln(mant) = 2 * t * (1 + t^2/3 + t^4/5 + ...), Horner from the
 *      highest term: p = 1/(2K-1); for k = K-2 down to 0: p = p * t2 + 1/(2k+1);
 *   3. ln x = e * LN2 + 2 * t * p.
 */
export function detLog(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`detLog needs a finite positive number, got ${x}`);
  let mant = x;
  let e = 0;
  while (mant >= 2) {
    mant *= 0.5;
    e += 1;
  }
  while (mant < 1) {
    mant *= 2;
    e -= 1;
  }
  if (mant >= 2 * SQRT_HALF) {
    mant *= 0.5;
    e += 1;
  }
  const t = (mant - 1) / (mant + 1);
  const t2 = t * t;
  let p = 1 / (2 * (LOG_TERMS - 1) + 1);
  for (let k = LOG_TERMS - 2; k >= 0; k--) p = p * t2 + 1 / (2 * k + 1);
  return e * LN2 + 2 * t * p;
}

/**
 * Standard normal deviates by Marsaglia's polar method, in the order they are produced:
 * draw u1, u2 (two nextDouble calls), u = 2*u1 - 1, v = 2*u2 - 1, s = u*u + v*v;
 * reject when s >= 1 or s == 0 (draw again); f = sqrt(-2 * detLog(s) / s); emit u*f then v*f.
 */
export class GaussianStream {
  private spare: number | null = null;

  constructor(private readonly rng: SplitMix64) {}

  next(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.rng.nextDouble() - 1;
      const v = 2 * this.rng.nextDouble() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * detLog(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }
}
