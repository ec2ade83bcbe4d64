import assert from 'node:assert/strict';
import { BucketTables, NORMALIZATIONS } from './bucket-tables';
import { HEADER_BYTES, decodeTables, encodeTables, hasherFor, interestFromEncoded, readHeader } from './codec';
import { SdimHasher } from './hasher';
import { syntheticUser } from './synthetic';
import { loadTestVectors } from './test-vectors';

const tv = loadTestVectors();

describe('tables codec', () => {
  const h = new SdimHasher(tv.config);
  const t = new BucketTables(h);
  tv.behaviors.forEach((x) => t.add(x));

  it('encodes the shared test vectors byte for byte', () => {
    assert.equal(encodeTables(t).toString('base64'), tv.encodedTables.i32);
    assert.equal(encodeTables(t, { dtype: 'i32' }).toString('base64'), tv.encodedTables.i32);
    assert.equal(encodeTables(t, { dtype: 'f64' }).toString('base64'), tv.encodedTables.f64);
    assert.equal(encodeTables(t, { dtype: 'f32' }).toString('base64'), tv.encodedTables.f32);
  });

  it('round-trips exactly as int32 fixed point and as float64', () => {
    assert.equal(readHeader(encodeTables(t)).dtype, 'i32');
    for (const dtype of ['i32', 'f64'] as const) {
      assert.ok(decodeTables(encodeTables(t, { dtype }), h).equals(t));
      // Without a hasher the config comes from the header.
      assert.ok(decodeTables(encodeTables(t, { dtype })).equals(t));
    }
  });

  it('falls back to float64 when a sum does not fit int32 fixed point; refuses i32 then', () => {
    const big = new BucketTables(h);
    const x = new Array(16).fill(0);
    x[0] = 1000;
    for (let i = 0; i < 40; i++) big.add(x);
    assert.equal(readHeader(encodeTables(big)).dtype, 'f64');
    assert.ok(decodeTables(encodeTables(big), h).equals(big));
    assert.throws(() => encodeTables(big, { dtype: 'i32' }), RangeError);
  });

  it('round-trips float32 tables to float32 precision, counts exactly', () => {
    const back = decodeTables(encodeTables(t, { dtype: 'f32' }), h);
    assert.deepEqual(back.counts, t.counts);
    t.sums.forEach((v, i) => assert.equal(back.sums[i], Math.fround(v)));
  });

  it('skips empty buckets: the size follows the number of non-empty buckets', () => {
    const empty = encodeTables(new BucketTables(h));
    assert.equal(empty.length, HEADER_BYTES);
    const header = readHeader(encodeTables(t));
    assert.equal(header.nonEmpty, t.nonEmptyBuckets());
    assert.deepEqual(header.config, tv.config);
    const big = new SdimHasher({ seed: 1, m: 48, tau: 3, d: 64 });
    const full = new BucketTables(big);
    syntheticUser({ seed: 3, d: 64, length: 2000, candidates: 0, interests: 50, spread: 2 }).history.forEach((x) => full.add(x));
    assert.equal(full.nonEmptyBuckets(), 128);
    assert.equal(encodeTables(full).length, HEADER_BYTES + 128 * 2 + 128 * 4 + 128 * 64 * 4);
    assert.equal(encodeTables(full, { dtype: 'f64' }).length, HEADER_BYTES + 128 * 2 + 128 * 4 + 128 * 64 * 8);
    assert.equal(encodeTables(full, { dtype: 'f32' }).length, HEADER_BYTES + 128 * 2 + 128 * 4 + 128 * 64 * 4);
  });

  it('interest straight from the blob equals interest from the tables, also from an unaligned buffer', () => {
    for (const dtype of ['i32', 'f64'] as const) {
      const blob = encodeTables(t, { dtype });
      const unaligned = Buffer.alloc(blob.length + 3).subarray(3);
      blob.copy(unaligned);
      for (const normalize of NORMALIZATIONS) {
        const want = t.interestBatch(tv.candidates, { normalize });
        assert.deepEqual(interestFromEncoded(blob, h, tv.candidates, { normalize }), want);
        assert.deepEqual(interestFromEncoded(unaligned, h, tv.candidates, { normalize }), want);
      }
    }
    const f32 = interestFromEncoded(encodeTables(t, { dtype: 'f32' }), h, tv.candidates);
    const want = t.interestBatch(tv.candidates);
    f32.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
  });

  it('refuses foreign, truncated or mismatched blobs', () => {
    const blob = encodeTables(t);
    assert.throws(() => decodeTables(Buffer.from('not sdim at all, clearly.')), /magic/);
    assert.throws(() => decodeTables(blob.subarray(0, blob.length - 1)), /truncated/);
    assert.throws(() => decodeTables(blob, new SdimHasher({ ...tv.config, seed: tv.config.seed + 1 })), /built with/);
    const bad = Buffer.from(blob);
    bad.writeUInt8(9, 5);
    assert.throws(() => decodeTables(bad), /dtype/);
    const v2 = Buffer.from(blob);
    v2.writeUInt8(2, 4);
    assert.throws(() => decodeTables(v2), /version/);
  });

  it('shares one hasher per config', () => {
    assert.equal(hasherFor(tv.config), hasherFor({ ...tv.config }));
  });
});
