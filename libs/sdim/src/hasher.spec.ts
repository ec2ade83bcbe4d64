import assert from 'node:assert/strict';
import { SdimHasher, signaturesFromCodes, validateConfig } from './hasher';
import { buildTestVectors, loadTestVectors } from './test-vectors';

const tv = loadTestVectors();

describe('SdimHasher', () => {
  const h = new SdimHasher(tv.config);

  it('the committed test vectors are what the code produces (regenerate with scripts/gen-test-vectors.ts)', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(buildTestVectors())), tv);
  });

  it('draws the hyperplanes of the shared test vectors bit for bit', () => {
    assert.equal(h.r.length, tv.config.m * tv.config.d);
    tv.R.forEach((row, i) => row.forEach((v, k) => assert.ok(Object.is(h.r[i * tv.config.d + k], v), `R[${i}][${k}]`)));
  });

  it('gives the codes and signatures of the shared test vectors', () => {
    tv.behaviors.forEach((x, i) => {
      assert.equal(Array.from(h.codes(x)).join(''), tv.behaviorCodes[i]);
      assert.deepEqual(Array.from(h.signatures(x)), tv.behaviorSignatures[i]);
    });
    tv.candidates.forEach((x, i) => {
      assert.equal(Array.from(h.codes(x)).join(''), tv.candidateCodes[i]);
      assert.deepEqual(Array.from(h.signatures(x)), tv.candidateSignatures[i]);
    });
  });

  it('groups codes into signatures of tau bits, lowest bit first', () => {
    const x = tv.behaviors[0];
    assert.deepEqual(h.signatures(x), signaturesFromCodes(h.codes(x), tv.config.tau));
    assert.deepEqual(Array.from(signaturesFromCodes(Uint8Array.from([1, 0, 0, 0, 1, 1]), 3)), [1, 6]);
  });

  it('batch equals one at a time, and bucket indexes offset by group', () => {
    const batch = h.signaturesBatch(tv.candidates);
    tv.candidates.forEach((c, i) => assert.deepEqual(batch.subarray(i * h.groups, (i + 1) * h.groups), h.signatures(c)));
    const idx = h.bucketIndexes(tv.candidates[0]);
    const sig = h.signatures(tv.candidates[0]);
    for (let j = 0; j < h.groups; j++) assert.equal(idx[j], j * 8 + sig[j]);
  });

  it('maps similar vectors to mostly equal codes and opposite vectors to complementary codes', () => {
    const x = Float64Array.from(tv.behaviors[1]);
    const neg = x.map((v) => -v);
    const cx = h.codes(x);
    const cn = h.codes(neg);
    for (let i = 0; i < cx.length; i++) assert.equal(cx[i] + cn[i], 1);
    const scaled = x.map((v) => v * 3.5);
    assert.deepEqual(h.codes(scaled), cx);
  });

  it('equals the plain index-order loop of SPEC.md for any m (blocked by four inside)', () => {
    for (const m of [3, 6, 9, 48, 51]) {
      const hm = new SdimHasher({ seed: 5, m, tau: 3, d: 7 });
      for (const x of [
        [0.3, -1, 2, 0.5, 0, -0.25, 1e-9],
        [1, 1, 1, 1, 1, 1, 1],
        [-2, 0.1, 0.2, -0.3, 0.4, 0.5, -0.6],
      ]) {
        const plain = Array.from({ length: m }, (_, i) => {
          let dot = 0;
          for (let k = 0; k < 7; k++) dot += hm.r[i * 7 + k] * x[k];
          return dot > 0 ? 1 : 0;
        });
        assert.deepEqual(Array.from(hm.codes(x)), plain);
        assert.deepEqual(hm.signatures(x), signaturesFromCodes(Uint8Array.from(plain), 3));
      }
    }
  });

  it('validates the config and the dimension', () => {
    assert.throws(() => validateConfig({ seed: 1, m: 47, tau: 3, d: 8 }), RangeError);
    assert.throws(() => validateConfig({ seed: -1, m: 48, tau: 3, d: 8 }), RangeError);
    assert.throws(() => validateConfig({ seed: 1, m: 48, tau: 9, d: 8 }), RangeError);
    assert.throws(() => h.codes([1, 2, 3]), RangeError);
  });
});
