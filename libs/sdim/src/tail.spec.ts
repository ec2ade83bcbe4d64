import assert from 'node:assert/strict';
import { BucketTables, snapVector } from './bucket-tables';
import { decodeTables, encodeTables } from './codec';
import { SdimHasher } from './hasher';
import { TablesOp, toFixedPoint } from './patch';
import { SplitMix64 } from './prng';
import { TailGapError, applyOps, decodeDelta, encodeDelta, encodeDeltas, foldedSeq, pendingDeltas, readTables, readUserTables, withFoldedSeq } from './tail';
import { sdimTablesKey, sdimTailKey } from './keys';

const h = new SdimHasher({ seed: 11, m: 12, tau: 3, d: 6 });
const vec = (r: SplitMix64) => Float64Array.from({ length: 6 }, () => r.nextDouble() * 2 - 1);
const op = (x: Float64Array, sign: 1 | -1): TablesOp => ({ sign, signatures: h.signatures(x), fixed: toFixedPoint(snapVector(x)) });

/** A writer in miniature: deltas go to the tail (seq 1, 2, ...), a fold moves them into the blob. */
class MiniWriter {
  blob: Buffer | null = null;
  tail: Record<string, Buffer> = {};
  seq = 0;
  push(o: TablesOp): void {
    this.tail[String(++this.seq)] = encodeDelta(o, h.config);
  }
  fold(): void {
    const after = this.blob ? foldedSeq(this.blob) : 0;
    const ops = pendingDeltas(this.tail, after).map((d) => d.op);
    this.blob = withFoldedSeq(applyOps(this.blob, h, ops), this.seq);
    this.tail = {};
  }
}

/** A delta laid out field by field as SPEC.md §6 states it (independent of tail.ts). */
function specDelta(o: TablesOp, c: { seed: number; m: number; tau: number; d: number }): Buffer {
  const groups = c.m / c.tau;
  const sigBytes = Math.ceil((2 * groups) / 4) * 4;
  const b = Buffer.alloc(12 + sigBytes + 4 * c.d);
  b[0] = 1;
  b.writeInt8(o.sign, 1);
  b[2] = c.tau;
  b.writeUInt16LE(c.m, 4);
  b.writeUInt16LE(c.d, 6);
  b.writeUInt32LE(c.seed, 8);
  for (let g = 0; g < groups; g++) b.writeUInt16LE(o.signatures[g], 12 + 2 * g);
  for (let k = 0; k < c.d; k++) b.writeInt32LE(o.fixed[k], 12 + sigBytes + 4 * k);
  return b;
}

describe('SDIM delta tail', () => {
  it('encodeDeltas gives the SPEC layout of every delta (signature padding zeroed), each its own view', () => {
    const h5 = new SdimHasher({ seed: 7, m: 15, tau: 3, d: 6 }); // 5 signatures: 2 bytes of padding
    const r = new SplitMix64(9);
    // Dirty the allocation pool so that a missing zero fill would show.
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(100).fill(0xab);
    const ops = [1, -1, 1].map((s) => {
      const x = vec(r);
      return { sign: s as 1 | -1, signatures: h5.signatures(x), fixed: toFixedPoint(snapVector(x)) };
    });
    const out = encodeDeltas(ops, h5.config);
    assert.equal(out.length, 3);
    ops.forEach((o, i) => {
      assert.deepEqual(out[i], specDelta(o, h5.config));
      assert.deepEqual(encodeDelta(o, h5.config), specDelta(o, h5.config));
      assert.deepEqual(Array.from(decodeDelta(i + 1, out[i]).op.fixed), Array.from(o.fixed));
    });
    assert.deepEqual(encodeDeltas([], h5.config), []);
  });

  it('encodes and decodes a delta exactly (op, signatures, fixed point, config)', () => {
    const r = new SplitMix64(1);
    const o = op(vec(r), -1);
    const d = decodeDelta(7, encodeDelta(o, h.config));
    assert.equal(d.seq, 7);
    assert.equal(d.op.sign, -1);
    assert.deepEqual(Array.from(d.op.signatures), Array.from(o.signatures));
    assert.deepEqual(d.op.fixed, o.fixed);
    assert.deepEqual(d.config, h.config);
  });

  it('blob + tail applied at read is byte for byte the folded blob, over random add/remove sequences and fold points', () => {
    const r = new SplitMix64(5);
    const pool = Array.from({ length: 30 }, () => vec(r));
    const w = new MiniWriter();
    const live: Float64Array[] = [];
    const ref = new BucketTables(h);
    let folds = 0;
    for (let step = 0; step < 400; step++) {
      if (live.length && r.nextDouble() < 0.4) {
        const x = live.splice(Math.floor(r.nextDouble() * live.length), 1)[0];
        w.push(op(x, -1));
        ref.remove(x);
      } else {
        const x = pool[Math.floor(r.nextDouble() * pool.length)];
        live.push(x);
        w.push(op(x, 1));
        ref.add(x);
      }
      const read = readTables(w.blob, w.tail, h);
      if (r.nextDouble() < 0.1) {
        w.fold();
        folds++;
        assert.deepEqual(read, w.blob, `step ${step}: read before the fold equals the folded blob`);
      }
      assert.ok(decodeTables(read!, h).equals(ref), `step ${step}: tables equal the reference`);
      assert.deepEqual(withFoldedSeq(Buffer.from(read!), 0), encodeTables(ref, { dtype: 'auto' }));
    }
    assert.ok(folds > 10);
  });

  it('a fold racing a read neither double-applies nor loses a delta: stale tail is skipped by seq, stale blob is a gap', () => {
    const r = new SplitMix64(9);
    const w = new MiniWriter();
    for (let i = 0; i < 5; i++) w.push(op(vec(r), 1));
    w.fold();
    for (let i = 0; i < 4; i++) w.push(op(vec(r), 1));
    const before = { blob: w.blob!, tail: { ...w.tail } };
    const truth = readTables(before.blob, before.tail, h)!;
    w.fold();
    w.push(op(vec(r), 1));
    const after = { blob: w.blob!, tail: { ...w.tail } };
    // Tail read before the fold, blob after it: the 4 folded deltas are in the blob, skipped in the tail.
    assert.deepEqual(readTables(after.blob, before.tail, h), truth);
    assert.equal(foldedSeq(truth), 9);
    // Blob read before the fold, tail after it: seqs 6..9 are missing, detected rather than lost.
    assert.throws(() => readTables(before.blob, after.tail, h), TailGapError);
    // The current state has all 10.
    assert.equal(foldedSeq(readTables(after.blob, after.tail, h)!), 10);
  });

  it('readUserTables reads tail and blob of the user, retries a gap, and gives null for nobody', async () => {
    const r = new SplitMix64(13);
    const w = new MiniWriter();
    for (let i = 0; i < 3; i++) w.push(op(vec(r), 1));
    w.fold();
    const stale = w.blob!;
    w.push(op(vec(r), 1));
    w.fold();
    w.push(op(vec(r), 1));
    let calls = 0;
    const store = {
      get: async (k: string) => (assert.equal(k, sdimTablesKey('u')), calls++ === 0 ? stale : w.blob),
      hgetall: async (k: string) => (assert.equal(k, sdimTailKey('u')), w.tail),
    };
    const got = await readUserTables(store, 'u');
    assert.equal(calls, 2, 'the first (gapped) read was retried');
    assert.deepEqual(got, readTables(w.blob, w.tail, h));
    assert.equal(await readUserTables({ get: async () => null, hgetall: async () => ({}) }, 'x'), null);
    // A tail without a blob (the blob lost) still reads: empty tables plus the deltas.
    const only = { '1': encodeDelta(op(vec(r), 1), h.config) };
    assert.equal(
      decodeTables(readTables(null, only)!, h).counts.reduce((a, b) => a + b, 0),
      h.groups,
    );
  });
});
