import assert from 'node:assert/strict';
import { BucketTables, snapVector } from './bucket-tables';
import { decodeTables, encodeTables, readHeader } from './codec';
import { SdimHasher } from './hasher';
import { TablesOp, patchEncodedTables, toFixedPoint } from './patch';
import { SplitMix64 } from './prng';

const h = new SdimHasher({ seed: 7, m: 12, tau: 3, d: 6 });

function vec(r: SplitMix64, scale = 1): Float64Array {
  return Float64Array.from({ length: 6 }, () => (r.nextDouble() * 2 - 1) * scale);
}

const op = (x: Float64Array, sign: 1 | -1): TablesOp => ({ sign, signatures: h.signatures(x), fixed: toFixedPoint(snapVector(x)) });

/** The reference: decode, apply with BucketTables, encode 'auto'. */
function reference(blob: Buffer | null, ops: { x: Float64Array; sign: 1 | -1 }[]): Buffer {
  const t = blob ? decodeTables(blob, h) : new BucketTables(h);
  for (const o of ops) o.sign > 0 ? t.add(o.x) : t.remove(o.x);
  return encodeTables(t, { dtype: 'auto' });
}

describe('patchEncodedTables', () => {
  it('equals decode + add/remove + encode byte for byte, over random add/remove sequences', () => {
    const r = new SplitMix64(3);
    const pool = Array.from({ length: 40 }, () => vec(r));
    const live: Float64Array[] = [];
    let blob: Buffer | null = null;
    let sawRemoval = false;
    for (let step = 0; step < 300; step++) {
      const batch: { x: Float64Array; sign: 1 | -1 }[] = [];
      const size = 1 + Math.floor(r.nextDouble() * 6);
      for (let i = 0; i < size; i++) {
        if (live.length && r.nextDouble() < 0.45) {
          const x = live.splice(Math.floor(r.nextDouble() * live.length), 1)[0];
          batch.push({ x, sign: -1 });
          sawRemoval = true;
        } else {
          const x = pool[Math.floor(r.nextDouble() * pool.length)];
          live.push(x);
          batch.push({ x, sign: 1 });
        }
      }
      const want = reference(blob, batch);
      const got = patchEncodedTables(
        blob,
        h,
        batch.map((o) => op(o.x, o.sign)),
      );
      assert.ok(got, `step ${step}`);
      assert.deepEqual(got, want, `step ${step}`);
      blob = got;
    }
    assert.ok(sawRemoval);
    // Removing everything left gives the empty tables (no bucket), as encodeTables does.
    const end = patchEncodedTables(
      blob,
      h,
      live.map((x) => op(x, -1)),
    )!;
    assert.deepEqual(end, encodeTables(new BucketTables(h)));
    assert.equal(readHeader(end).nonEmpty, 0);
  });

  it('starts from no blob, and does not modify its input', () => {
    const r = new SplitMix64(5);
    const xs = Array.from({ length: 10 }, () => vec(r));
    const first = patchEncodedTables(
      null,
      h,
      xs.map((x) => op(x, 1)),
    )!;
    assert.deepEqual(
      first,
      reference(
        null,
        xs.map((x) => ({ x, sign: 1 })),
      ),
    );
    const copy = Buffer.from(first);
    const y = vec(r);
    const second = patchEncodedTables(first, h, [op(y, 1)])!;
    assert.deepEqual(first, copy);
    assert.notDeepEqual(second, first);
    // An unaligned input (a Redis reply is a slice of a socket buffer) works the same.
    const unaligned = Buffer.alloc(first.length + 1).subarray(1);
    first.copy(unaligned);
    assert.deepEqual(patchEncodedTables(unaligned, h, [op(y, 1)]), second);
  });

  it('inPlace rewrites the rows of an aligned blob when no bucket appears or disappears, else copies', () => {
    const r = new SplitMix64(13);
    const xs = Array.from({ length: 60 }, () => vec(r));
    const full = patchEncodedTables(
      null,
      h,
      xs.map((x) => op(x, 1)),
    )!;
    assert.equal(readHeader(full).nonEmpty, h.groups * h.buckets, 'every bucket non-empty');
    const y = vec(r);
    const want = patchEncodedTables(full, h, [op(y, 1), op(xs[3], -1)])!;
    const mine = Buffer.from(full);
    const got = patchEncodedTables(mine, h, [op(y, 1), op(xs[3], -1)], { inPlace: true });
    assert.equal(got, mine);
    assert.deepEqual(got, want);
    // A bucket that empties changes the layout: a new blob, the input untouched.
    const one = patchEncodedTables(null, h, [op(y, 1)])!;
    const before = Buffer.from(one);
    const emptied = patchEncodedTables(one, h, [op(y, -1)], { inPlace: true })!;
    assert.notEqual(emptied, one);
    assert.deepEqual(one, before);
    assert.equal(readHeader(emptied).nonEmpty, 0);
    // Unaligned input: copies.
    const unaligned = Buffer.alloc(full.length + 1).subarray(1);
    full.copy(unaligned);
    const res = patchEncodedTables(unaligned, h, [op(y, 1), op(xs[3], -1)], { inPlace: true })!;
    assert.notEqual(res, unaligned);
    assert.deepEqual(res, want);
    assert.deepEqual(unaligned, full);
  });

  it('returns null when the result is not int32: a float64 blob, or a sum leaving the int32 range', () => {
    const r = new SplitMix64(9);
    const x = vec(r);
    const t = new BucketTables(h);
    t.add(x);
    assert.equal(patchEncodedTables(encodeTables(t, { dtype: 'f64' }), h, [op(x, 1)]), null);
    const big = Float64Array.from({ length: 6 }, (_, k) => (k === 0 ? 1000 : 0.5));
    let blob: Buffer | null = null;
    // 32 x 1000 = 32,000 < 2^15: int32; the 33rd crosses 2^15.
    for (let i = 0; i < 32; i++) blob = patchEncodedTables(blob, h, [op(big, 1)]);
    assert.equal(readHeader(blob!).dtype, 'i32');
    assert.equal(patchEncodedTables(blob, h, [op(big, 1)]), null);
    // In place: nothing is written before the range check fails.
    const copy = Buffer.from(blob!);
    assert.equal(patchEncodedTables(blob, h, [op(big, 1)], { inPlace: true }), null);
    assert.deepEqual(blob, copy);
  });

  it('throws as BucketTables does: remove of a behaviour never added, wrong signatures, another config', () => {
    const r = new SplitMix64(11);
    const x = vec(r);
    assert.throws(() => patchEncodedTables(null, h, [op(x, -1)]), /remove from an empty bucket/);
    assert.throws(() => patchEncodedTables(null, h, [{ ...op(x, 1), signatures: [1, 2] }]), /expected 4 signatures/);
    assert.throws(() => patchEncodedTables(null, h, [{ ...op(x, 1), signatures: [1, 2, 9, 0] }]), /signature 2 is 9/);
    const other = new SdimHasher({ seed: 8, m: 12, tau: 3, d: 6 });
    const blob = patchEncodedTables(null, other, [{ sign: 1, signatures: other.signatures(x), fixed: toFixedPoint(snapVector(x)) }]);
    assert.throws(() => patchEncodedTables(blob, h, [op(x, 1)]), /built with/);
    assert.throws(() => toFixedPoint([0.1]), /not a snapped value/);
  });
});
