import mt19937 from '@stdlib/random-base-mt19937';

/**
 * numpy's legacy `np.random.RandomState(seed)` draws that obp's bootstrap uses, on the stdlib
 * Mersenne Twister (same `init_genrand` seeding and 32-bit outputs as numpy's MT19937), so a
 * seeded bootstrap interval here equals obp's `estimate_interval(random_state=seed)`.
 */
export class NumpyRandomState {
  private readonly next: () => number;

  constructor(seed: number) {
    // stdlib's MT19937 refuses seed 0 (numpy accepts it): seeds are integers in [1, 2^32).
    if (!Number.isInteger(seed) || seed < 1 || seed > 0xffffffff) throw new RangeError('seed must be an integer in [1, 2^32)');
    this.next = mt19937.factory({ seed });
  }

  /** A raw 32-bit output. */
  uint32(): number {
    return this.next();
  }

  /** `randint(0, n)` for one value: numpy's masked rejection sampling (legacy RandomState). */
  randint(n: number): number {
    const rng = n - 1;
    if (rng <= 0) return 0;
    if (rng > 0xffffffff) throw new RangeError('n must be at most 2^32');
    if (rng === 0xffffffff) return this.next();
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.next() & mask) >>> 0;
      if (v <= rng) return v;
    }
  }

  /** `choice(n, size)` with replacement and uniform probabilities: indices in [0, n). */
  choice(n: number, size: number): Int32Array {
    const out = new Int32Array(size);
    for (let i = 0; i < size; i++) out[i] = this.randint(n);
    return out;
  }

  /** A uniform double in [0, 1) as numpy's `random_sample` (53-bit from two draws). */
  random(): number {
    const a = this.next() >>> 5;
    const b = this.next() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}
