import assert from 'node:assert/strict';
import { attention, buildInfo } from '@recsys/sdim-native';
import { BucketTables, NORMALIZATIONS } from '../bucket-tables';
import { encodeTables, interestFromEncodedRows, interestFromEncodedSignatures, type SumsDtype } from '../codec';
import { SdimHasher, type SdimConfig } from '../hasher';
import { GaussianStream, SplitMix64 } from '../prng';
import { targetAttentionBatch } from '../reference';
import { syntheticUser } from '../synthetic';
import { loadTestVectors } from '../test-vectors';
import { sdimKernelInfo, setSdimKernels } from './native';

/** Runs f with the TypeScript kernels, then restores the engine. */
function js<T>(f: () => T): T {
  const prev = setSdimKernels('js');
  try {
    return f();
  } finally {
    setSdimKernels(prev);
  }
}

function gaussianRows(seed: number, n: number, d: number, ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): Float32Array | Float64Array {
  const g = new GaussianStream(new SplitMix64(seed));
  const out = new ctor(n * d);
  for (let i = 0; i < out.length; i++) out[i] = g.next();
  return out;
}

/** Vectors whose dot product with one hyperplane is zero up to rounding: where a fused multiply-add or another summation order would flip a code. */
function nearHyperplanes(h: SdimHasher, seed: number, n: number): Float64Array {
  const { m, d } = h.config;
  const r = new SplitMix64(seed);
  const xs = gaussianRows(seed, n, d) as Float64Array;
  for (let i = 0; i < n; i++) {
    const p = Math.floor(r.nextDouble() * m);
    let dot = 0;
    let nn = 0;
    for (let k = 0; k < d; k++) {
      dot += xs[i * d + k] * h.r[p * d + k];
      nn += h.r[p * d + k] * h.r[p * d + k];
    }
    for (let k = 0; k < d; k++) xs[i * d + k] -= (dot / nn) * h.r[p * d + k];
  }
  return xs;
}

describe('native/sdim kernels (libs/sdim/src/kernels)', () => {
  it('the addon is built and loaded (npm install builds native/sdim; the TypeScript kernels are the fallback)', () => {
    const info = sdimKernelInfo();
    assert.equal(info.engine, 'native', `native/sdim did not load: ${info.reason}`);
    assert.ok(['avx512', 'avx2', 'sse2', 'scalar'].includes(buildInfo.simd));
  });

  it('switching to the TypeScript kernels is reported', () => {
    js(() => assert.equal(sdimKernelInfo().engine, 'js'));
    assert.equal(sdimKernelInfo().engine, 'native');
  });

  it('batched signatures equal the committed test vectors', () => {
    const tv = loadTestVectors();
    const h = new SdimHasher(tv.config);
    const rows = Float64Array.from(tv.candidates.flatMap((c) => Array.from(c)));
    const sigs = h.signaturesRows(rows);
    tv.candidateSignatures.forEach((s, i) => assert.deepEqual(Array.from(sigs.subarray(i * h.groups, (i + 1) * h.groups)), s, `candidate ${i}`));
  });

  const configs: SdimConfig[] = [
    { seed: 20220517, m: 48, tau: 3, d: 32 },
    { seed: 7, m: 48, tau: 3, d: 64 },
    { seed: 11, m: 30, tau: 3, d: 7 },
    { seed: 12, m: 64, tau: 4, d: 33 },
    { seed: 13, m: 32, tau: 4, d: 16 },
    { seed: 14, m: 24, tau: 2, d: 5 },
  ];
  for (const c of configs) {
    it(`batched signatures are bit for bit the TypeScript ones (m=${c.m}, tau=${c.tau}, d=${c.d}; float32 and float64 rows, vectors on a hyperplane, bucket offsets)`, () => {
      const h = new SdimHasher(c);
      const inputs = [gaussianRows(c.seed + 1, 301, c.d, Float32Array), gaussianRows(c.seed + 2, 300, c.d), nearHyperplanes(h, c.seed + 3, 500)];
      for (const xs of inputs) {
        for (const bucketOffset of [false, true]) {
          const native = h.signaturesRows(xs, undefined, { bucketOffset });
          const ts = js(() => h.signaturesRows(xs, undefined, { bucketOffset }));
          assert.deepEqual(native, ts);
        }
        // The TypeScript path is signatures() row by row.
        const one = h.signatures(xs.subarray(0, c.d));
        assert.deepEqual(h.signaturesRows(xs).subarray(0, h.groups), one);
      }
    });
  }

  it('batched signatures check their input', () => {
    const h = new SdimHasher(configs[0]);
    assert.throws(() => h.signaturesRows(new Float64Array(33)), RangeError);
    assert.throws(() => h.signaturesRows(new Float64Array(64), new Uint16Array(3)), RangeError);
  });

  const dtypes: SumsDtype[] = ['i32', 'f64', 'f32'];
  for (const dtype of dtypes) {
    it(`interest from the blob equals the TypeScript gather bit for bit ('${dtype}' sums, every normalisation, aligned and unaligned buffers)`, () => {
      const h = new SdimHasher(configs[0]);
      const u = syntheticUser({ seed: 5, d: 32, length: 700, candidates: 120 });
      const t = new BucketTables(h);
      u.history.forEach((x) => t.add(x));
      const blob = encodeTables(t, { dtype });
      const unaligned = Buffer.alloc(blob.length + 1).subarray(1);
      blob.copy(unaligned);
      const cand = new Float32Array(u.candidates.length * 32);
      u.candidates.forEach((x, i) => cand.set(x, i * 32));
      const sigs = h.signaturesRows(cand);
      const rows = u.candidates.map((_, i) => sigs.subarray(i * h.groups, (i + 1) * h.groups));
      for (const normalize of NORMALIZATIONS) {
        const ts = js(() => interestFromEncodedSignatures(blob, h, rows, normalize));
        for (const buf of [blob, unaligned]) {
          const a = interestFromEncodedRows(buf, h, sigs, normalize);
          const b = interestFromEncodedSignatures(buf, h, rows, normalize);
          assert.ok(
            a.every((v, i) => Object.is(v, ts[i])),
            `${normalize}: rows`,
          );
          assert.ok(
            b.every((v, i) => Object.is(v, ts[i])),
            `${normalize}: signatures`,
          );
        }
      }
    });
  }

  it('interest from the blob: empty tables and empty selected buckets give zero vectors; bad signatures and a short blob are refused', () => {
    const h = new SdimHasher(configs[0]);
    const empty = encodeTables(new BucketTables(h));
    const sigs = new Uint16Array(2 * h.groups).fill(3);
    assert.deepEqual(Array.from(interestFromEncodedRows(empty, h, sigs)), new Array(64).fill(0));
    const t = new BucketTables(h);
    const x = new Float64Array(32).fill(0.1);
    t.add(x);
    const blob = encodeTables(t);
    const own = h.signatures(x);
    const other = Uint16Array.from(own, (s) => (s + 1) % h.buckets);
    const out = interestFromEncodedRows(blob, h, Uint16Array.from([...own, ...other]));
    assert.ok(Math.abs(out[0] - 0.1) < 1e-4);
    assert.deepEqual(Array.from(out.subarray(32)), new Array(32).fill(0));
    assert.throws(() => interestFromEncodedRows(blob, h, new Uint16Array(h.groups).fill(h.buckets)), /2\^tau/);
    assert.throws(() => interestFromEncodedRows(blob.subarray(0, blob.length - 8), h, own));
    assert.throws(() => interestFromEncodedRows(blob, new SdimHasher({ ...configs[0], seed: 1 }), own), /built with/);
  });

  it('the attention kernel matches the reference target attention (float32, within 2e-6) at lengths that are and are not multiples of its block', () => {
    const u = syntheticUser({ seed: 9, d: 32, length: 1000, candidates: 37 });
    const q = new Float32Array(37 * 32);
    u.candidates.forEach((x, i) => q.set(x, i * 32));
    for (const L of [1, 64, 100, 1000]) {
      const x = new Float32Array(L * 32);
      for (let j = 0; j < L; j++) x.set(u.history[j], j * 32);
      const out = new Float32Array(q.length);
      attention(q, x, 32, out);
      const ref = targetAttentionBatch(u.candidates, { data: x, rows: L, cols: 32 });
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
      assert.ok(worst < 2e-6, `L=${L}: max difference ${worst}`);
    }
    const odd = new Float32Array(3 * 5);
    odd.fill(0.5);
    const o = new Float32Array(3 * 5);
    attention(odd, new Float32Array(7 * 5).fill(0.25), 5, o);
    assert.ok(o.every((v) => Math.abs(v - 0.25) < 1e-7));
  });
});
