import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('reads the shared SIFT-small set when present (10000 x 128, GT 100 x 100)', () => {
    const p = '/work/shared/data/ann/siftsmall/';
    let base;
    try {
      base = readFvecs(p + 'siftsmall_base.fvecs');
    } catch {
      // The data set lives outside the repo; the round-trip tests above cover the format.
      return;
    }
    assert.equal(base.dim, 128);
    assert.equal(base.count, 10000);
    const gt = readIvecs(p + 'siftsmall_groundtruth.ivecs');
    assert.equal(gt.dim, 100);
    assert.equal(gt.count, 100);
  });
});
