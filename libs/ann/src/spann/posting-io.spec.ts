import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GaussianMixture, Rng, row } from '../synthetic';
import type { Metric, SearchHit } from '../vector-index.port';
import { availableIoModes, buildSpannForBench, type PostingIoMode } from './index';
import { spannIoAddon } from './posting-io';
import type { SpannIndex } from './spann.index';
import { spannFixtures } from './spec-fixtures';

// The posting-file readers (posting-io.ts, native/spann-io): every mode must return exactly what
// readSync returns, including after the file is dropped from the page cache.
const { open, tempDir } = spannFixtures('spann-io-spec-');

const DIM = 24;
const N = 4000;

async function build(metric: Metric, u8: boolean): Promise<{ index: SpannIndex; queries: Float32Array[] }> {
  const mix = new GaussianMixture({ clusters: 12, dim: DIM, seed: 11 });
  const base = mix.sample(N, 12);
  const qs = mix.sample(40, 13);
  if (u8) {
    // 0..255 integers: the u8 records and the integer kernels.
    for (const set of [base, qs]) for (let i = 0; i < set.data.length; i++) set.data[i] = Math.max(0, Math.min(255, Math.round(128 + set.data[i] * 20)));
  }
  const index = await buildSpannForBench(base.data, N, DIM, metric, tempDir());
  open.push(index);
  return { index, queries: Array.from({ length: qs.count }, (_, i) => row(qs, i)) };
}

function answers(index: SpannIndex, queries: Float32Array[], maxLists: number): SearchHit[][] {
  return queries.map((q) => index.search(q, 10, undefined, { maxLists }));
}

function sameHits(a: SearchHit[][], b: SearchHit[][], what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(
      a[i].map((h) => h.id),
      b[i].map((h) => h.id),
      `${what}: query ${i}`,
    );
    for (let j = 0; j < a[i].length; j++) assert.ok(Math.abs(a[i][j].distance - b[i][j].distance) <= 1e-4 * Math.max(1, Math.abs(b[i][j].distance)), `${what}: distance ${i}/${j}`);
  }
}

describe('SPANN posting readers', () => {
  it('has the native addon built here (mmap and io_uring modes)', () => {
    assert.ok(spannIoAddon() !== null, 'native/spann-io is not built: npm rebuild @recsys/spann-io');
    assert.ok(availableIoModes().includes('mmap'));
  });

  for (const [metric, u8] of [
    ['l2', false],
    ['l2', true],
    ['cosine', false],
  ] as Array<[Metric, boolean]>) {
    it(`returns the readSync answers in every mode (${metric}, ${u8 ? 'u8' : 'f32'} records)`, async () => {
      const { index, queries } = await build(metric, u8);
      assert.equal(index.params().valueType, u8 ? 'u8' : 'f32');
      index.setIoMode('pread');
      const ref = answers(index, queries, 8);
      const wide = answers(index, queries, 64);
      for (const mode of availableIoModes() as PostingIoMode[]) {
        index.setIoMode(mode);
        assert.equal(index.ioMode, mode);
        sameHits(answers(index, queries, 8), ref, `${mode} maxLists=8`);
        sameHits(answers(index, queries, 64), wide, `${mode} maxLists=64`);
      }
    });
  }

  it('drops the posting file from the page cache and reads it back correctly', async () => {
    const { index, queries } = await build('l2', false);
    index.setIoMode('mmap');
    const ref = answers(index, queries, 16);
    const before = index.pageCacheBytes()!;
    assert.ok(before.size > 0 && before.resident > 0, 'the file was read through the page cache');
    assert.equal(index.dropPageCache(), true);
    assert.ok(index.pageCacheBytes()!.resident < before.resident, 'DONTNEED evicted pages');
    for (const mode of availableIoModes() as PostingIoMode[]) {
      index.setIoMode(mode);
      index.dropPageCache();
      sameHits(answers(index, queries, 16), ref, `${mode} after a drop`);
    }
  });

  it('keeps reading correctly while upserts grow the file (the mapping follows it)', async () => {
    const { index, queries } = await build('l2', false);
    index.setIoMode('mmap');
    answers(index, queries, 8);
    const rng = new Rng(5);
    for (let i = 0; i < 3000; i++) {
      const v = new Float32Array(DIM);
      for (let t = 0; t < DIM; t++) v[t] = rng.normal() * 3;
      index.upsert(`new${i}`, v);
    }
    const got = answers(index, queries, 16);
    index.setIoMode('pread');
    sameHits(got, answers(index, queries, 16), 'mmap after growth');
    // A new vector is found as its own nearest neighbour through the mapping.
    index.setIoMode('mmap');
    const probe = new Float32Array(DIM).fill(40);
    index.upsert('far', probe);
    assert.equal(index.search(probe, 1, undefined, { maxLists: 4 })[0].id, 'far');
  });

  it('readBatch (io_uring and pread) and gather read the requested ranges', () => {
    const io = spannIoAddon()!;
    const path = join(tempDir(), 'ranges.bin');
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 11)) & 255;
    writeFileSync(path, data);
    const fd = openSync(path, 'r');
    try {
      const n = 40;
      const pos = new Float64Array(n);
      const len = new Uint32Array(n);
      const off = new Uint32Array(n);
      let at = 0;
      for (let i = 0; i < n; i++) {
        pos[i] = (i * 7919 * 13) % (data.length - 5000);
        len[i] = 1 + ((i * 977) % 4096);
        off[i] = at;
        at += len[i];
      }
      const check = (dst: Uint8Array, what: string): void => {
        for (let i = 0; i < n; i++) assert.deepEqual(dst.subarray(off[i], off[i] + len[i]), data.subarray(pos[i], pos[i] + len[i]), `${what} range ${i}`);
      };
      for (const uring of [true, false]) {
        const dst = new Uint8Array(at);
        assert.equal(io.readBatch(fd, dst, pos, len, off, n, uring), at);
        check(dst, uring ? 'io_uring' : 'pread');
      }
      const h = io.mapFile(fd);
      const dst = new Uint8Array(at);
      io.gather(h, dst, pos, len, off, n);
      check(dst, 'gather');
      io.unmapFile(h);
      assert.throws(() => io.readBatch(fd, new Uint8Array(10), pos, len, off, n, true), /outside dst/);
      const eof = Float64Array.of(data.length - 10);
      assert.throws(() => io.readBatch(fd, new Uint8Array(100), eof, Uint32Array.of(100), Uint32Array.of(0), 1, false), /readBatch/);
    } finally {
      closeSync(fd);
    }
  });
});
