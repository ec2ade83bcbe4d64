import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBvecs, readFvecs, readIvecs, readVectors, writeFvecs, writeIvecs } from './texmex';

describe('TEXMEX readers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'texmex-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fvecs and ivecs round-trip and honour limit', () => {
    const data = Float32Array.from({ length: 3 * 5 }, (_, i) => i * 0.5 - 2);
    writeFvecs(join(dir, 'a.fvecs'), { dim: 5, count: 3, data });
    const back = readFvecs(join(dir, 'a.fvecs'));
    assert.equal(back.dim, 5);
    assert.equal(back.count, 3);
    assert.deepEqual(Array.from(back.data), Array.from(data));
    assert.equal(readFvecs(join(dir, 'a.fvecs'), { limit: 2 }).count, 2);
    const ints = Int32Array.from([1, -2, 3, 4, 5, 6]);
    writeIvecs(join(dir, 'a.ivecs'), { dim: 2, count: 3, data: ints });
    assert.deepEqual(Array.from(readIvecs(join(dir, 'a.ivecs')).data), Array.from(ints));
  });

  it('bvecs widen uint8 to float', () => {
    const buf = Buffer.alloc(2 * (4 + 3));
    buf.writeInt32LE(3, 0);
    buf.set([0, 128, 255], 4);
    buf.writeInt32LE(3, 7);
    buf.set([1, 2, 3], 11);
    writeFileSync(join(dir, 'b.bvecs'), buf);
    const v = readVectors(join(dir, 'b.bvecs'));
    assert.deepEqual(Array.from(v.data), [0, 128, 255, 1, 2, 3]);
    assert.equal(readBvecs(join(dir, 'b.bvecs')).count, 2);
  });

  it('rejects truncated files and rows of another dimension', () => {
    const buf = Buffer.alloc(4 + 8 + 4 + 8);
    buf.writeInt32LE(2, 0);
    buf.writeInt32LE(3, 12); // second row claims dim 3
    writeFileSync(join(dir, 'bad.fvecs'), buf);
    assert.throws(() => readFvecs(join(dir, 'bad.fvecs')), /row 1 has dimension 3/);
    writeFileSync(join(dir, 'short.fvecs'), buf.subarray(0, 10));
    assert.throws(() => readFvecs(join(dir, 'short.fvecs')), /not a multiple/);
  });

  it('reads a SIFT-small-shaped set built byte by byte (base 1000 x 128, ground truth 100 x 100)', () => {
    // The TEXMEX layout written here by hand, independently of writeFvecs/writeIvecs: each row is a
    // little-endian int32 dimension followed by dim float32 (fvecs) or int32 (ivecs) values.
    const n = 1000;
    const d = 128;
    const value = (r: number, c: number) => ((r * 131 + c * 7) % 256) - 0.25 * (c % 4);
    const base = Buffer.alloc(n * (4 + 4 * d));
    for (let r = 0; r < n; r++) {
      const at = r * (4 + 4 * d);
      base.writeInt32LE(d, at);
      for (let c = 0; c < d; c++) base.writeFloatLE(value(r, c), at + 4 + 4 * c);
    }
    const gq = 100;
    const gk = 100;
    const gt = Buffer.alloc(gq * (4 + 4 * gk));
    for (let q = 0; q < gq; q++) {
      const at = q * (4 + 4 * gk);
      gt.writeInt32LE(gk, at);
      for (let j = 0; j < gk; j++) gt.writeInt32LE((q * 37 + j * 101) % n, at + 4 + 4 * j);
    }
    writeFileSync(join(dir, 'siftsmall_base.fvecs'), base);
    writeFileSync(join(dir, 'siftsmall_groundtruth.ivecs'), gt);

    const b = readFvecs(join(dir, 'siftsmall_base.fvecs'));
    assert.equal(b.dim, d);
    assert.equal(b.count, n);
    assert.equal(b.data.length, n * d);
    for (const [r, c] of [
      [0, 0],
      [0, 127],
      [1, 3],
      [500, 64],
      [999, 127],
    ])
      assert.equal(b.data[r * d + c], value(r, c));
    const head = readVectors(join(dir, 'siftsmall_base.fvecs'), { limit: 10 });
    assert.equal(head.count, 10);
    assert.deepEqual(Array.from(head.data), Array.from(b.data.subarray(0, 10 * d)));

    const g = readIvecs(join(dir, 'siftsmall_groundtruth.ivecs'));
    assert.equal(g.dim, gk);
    assert.equal(g.count, gq);
    assert.equal(g.data[0], 0);
    assert.equal(g.data[99 * gk + 99], (99 * 37 + 99 * 101) % n);

    // The writers produce the same bytes.
    writeFvecs(join(dir, 'again.fvecs'), b);
    writeIvecs(join(dir, 'again.ivecs'), g);
    assert.deepEqual(readFileSync(join(dir, 'again.fvecs')), base);
    assert.deepEqual(readFileSync(join(dir, 'again.ivecs')), gt);
  });
});
