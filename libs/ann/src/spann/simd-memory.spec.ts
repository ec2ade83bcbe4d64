import assert from 'node:assert/strict';
import { SimdMemory } from './simd-memory';
import { dot, l2sq, seededRandom } from './vector-math';

describe('SimdMemory', () => {
  it('kernels agree with the scalar distances (strided rows, id gathers, dims not divisible by 8)', () => {
    const sm = new SimdMemory();
    const rand = seededRandom(3);
    for (const dim of [1, 3, 4, 7, 8, 13, 32, 128]) {
      const rows = 37;
      const stride = 4 + dim * 4;
      const q = sm.alloc(dim * 4);
      const base = sm.alloc(rows * stride);
      const out = sm.alloc(rows * 4);
      const ids = sm.alloc(rows * 4);
      const f = sm.f32();
      for (let i = 0; i < dim; i++) f[(q >> 2) + i] = rand() * 2 - 1;
      for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) f[((base + r * stride + 4) >> 2) + i] = rand() * 2 - 1;
      sm.k.l2_rows(q, base + 4, rows, stride, dim, out);
      for (let r = 0; r < rows; r++) {
        const want = l2sq(f, q >> 2, f, (base + r * stride + 4) >> 2, dim);
        assert.ok(Math.abs(f[(out >> 2) + r] - want) <= 1e-5 * Math.max(1, want), `l2 dim ${dim} row ${r}`);
      }
      sm.k.dot_rows(q, base + 4, rows, stride, dim, out);
      for (let r = 0; r < rows; r++) {
        const want = dot(f, q >> 2, f, (base + r * stride + 4) >> 2, dim);
        assert.ok(Math.abs(f[(out >> 2) + r] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `dot dim ${dim} row ${r}`);
      }
      // l2_ids over a packed block of vectors (the centroid layout): rows 5, 0, 9.
      const vecs = sm.alloc(rows * dim * 4);
      const g = sm.f32();
      for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) g[(vecs >> 2) + r * dim + i] = g[((base + r * stride + 4) >> 2) + i];
      const u = sm.u32();
      [5, 0, 9].forEach((v, j) => (u[(ids >> 2) + j] = v));
      sm.k.l2_ids(q, vecs, ids, 3, dim, out);
      [5, 0, 9].forEach((v, j) => {
        const want = l2sq(g, q >> 2, g, (vecs >> 2) + v * dim, dim);
        assert.ok(Math.abs(g[(out >> 2) + j] - want) <= 1e-5 * Math.max(1, want), `l2_ids dim ${dim}`);
      });
      for (const p of [vecs, ids, out, base, q]) sm.free(p);
    }
  });

  it('cut-off, u8, integer and top-k kernels agree with the scalar distances', () => {
    const sm = new SimdMemory();
    const rand = seededRandom(11);
    for (const dim of [3, 16, 24, 37, 128]) {
      const rows = 41;
      const f32Stride = 4 + dim * 4;
      const u8Stride = 4 + ((dim + 3) & ~3);
      const q = sm.alloc(dim * 4);
      const q16 = sm.alloc(dim * 2);
      const fRows = sm.alloc(rows * f32Stride);
      const bRows = sm.alloc(rows * u8Stride);
      const outI = sm.alloc(rows * 4);
      const outD = sm.alloc(rows * 4);
      const f = sm.f32();
      const b = new Uint8Array(sm.buffer);
      const i16 = new Int16Array(sm.buffer, q16, dim);
      const qv = Array.from({ length: dim }, () => Math.floor(rand() * 256));
      qv.forEach((x, t) => ((f[(q >> 2) + t] = x), (i16[t] = x)));
      const vals: number[][] = [];
      for (let r = 0; r < rows; r++) {
        vals.push(Array.from({ length: dim }, () => Math.floor(rand() * 256)));
        vals[r].forEach((x, t) => ((f[((fRows + r * f32Stride + 4) >> 2) + t] = x), (b[bRows + r * u8Stride + 4 + t] = x)));
      }
      const l2 = vals.map((v) => v.reduce((s, x, t) => s + (qv[t] - x) ** 2, 0));
      const dots = vals.map((v) => v.reduce((s, x, t) => s + qv[t] * x, 0));
      const sorted = [...l2].sort((x, y) => x - y);
      const thr = sorted[9]; // keeps exactly the rows strictly below the 10th distance
      const read = (n: number) => Array.from({ length: n }, (_, j) => [sm.u32()[(outI >> 2) + j], sm.f32()[(outD >> 2) + j]]);
      const expectLt = l2.map((d, r) => [r, d]).filter(([, d]) => d < thr);
      for (const [name, n] of [
        ['l2_rows_lt', sm.k.l2_rows_lt(q, fRows + 4, rows, f32Stride, dim, thr, outI, outD)],
        ['l2_rows_u8_lt', sm.k.l2_rows_u8_lt(q, bRows + 4, rows, u8Stride, dim, thr, outI, outD)],
        ['l2_rows_u8i_lt', sm.k.l2_rows_u8i_lt(q16, bRows + 4, rows, u8Stride, dim, thr, outI, outD)],
      ] as const) {
        assert.deepEqual(read(n), expectLt, `${name} dim ${dim}`);
      }
      const dThr = [...dots].sort((x, y) => y - x)[9];
      const expectGt = dots.map((d, r) => [r, d]).filter(([, d]) => d > dThr);
      for (const [name, n] of [
        ['dot_rows_gt', sm.k.dot_rows_gt(q, fRows + 4, rows, f32Stride, dim, dThr, outI, outD)],
        ['dot_rows_u8_gt', sm.k.dot_rows_u8_gt(q, bRows + 4, rows, u8Stride, dim, dThr, outI, outD)],
        ['dot_rows_u8i_gt', sm.k.dot_rows_u8i_gt(q16, bRows + 4, rows, u8Stride, dim, dThr, outI, outD)],
      ] as const) {
        assert.deepEqual(read(n), expectGt, `${name} dim ${dim}`);
      }
      const top = l2
        .map((d, r) => [r, d])
        .sort((x, y) => x[1] - y[1] || x[0] - y[0])
        .slice(0, 7);
      assert.deepEqual(read(sm.k.topk_l2(q, fRows + 4, rows, f32Stride, dim, 7, outI, outD)), top, `topk_l2 dim ${dim}`);
      assert.deepEqual(read(sm.k.topk_l2_u8i(q16, bRows + 4, rows, u8Stride, dim, 7, outI, outD)), top, `topk_l2_u8i dim ${dim}`);
      assert.equal(sm.k.topk_l2(q, fRows + 4, 3, f32Stride, dim, 7, outI, outD), 3, 'fewer rows than k');
      for (const p of [q, q16, fRows, bRows, outI, outD]) sm.free(p);
    }
  });

  it('add_rows accumulates rows into their cluster sums', () => {
    const sm = new SimdMemory();
    const dim = 6;
    const rows = sm.alloc(4 * dim * 4);
    const assign = sm.alloc(16);
    const sums = sm.alloc(2 * dim * 4);
    const f = sm.f32();
    for (let i = 0; i < 4 * dim; i++) f[(rows >> 2) + i] = i;
    sm.u32().set([1, 0, 1, 1], assign >> 2);
    f.fill(0, sums >> 2, (sums >> 2) + 2 * dim);
    sm.k.add_rows(rows, 4, dim, assign, sums);
    for (let t = 0; t < dim; t++) {
      assert.equal(f[(sums >> 2) + t], dim + t);
      assert.equal(f[(sums >> 2) + dim + t], t + (2 * dim + t) + (3 * dim + t));
    }
  });

  it('allocator: blocks never overlap, freed space is reused, realloc keeps contents', () => {
    const sm = new SimdMemory();
    const a = sm.alloc(100);
    const b = sm.alloc(1000);
    const c = sm.alloc(50);
    assert.ok(a + 100 <= b && b + 1000 <= c, 'disjoint and ordered');
    sm.free(b);
    const d = sm.alloc(500);
    assert.equal(d, b, 'first fit reuses the hole');
    const u8 = new Uint8Array(sm.buffer);
    for (let i = 0; i < 50; i++) u8[c + i] = i + 1;
    const c2 = sm.realloc(c, 200_000); // c is at the top: grows in place, memory grows
    assert.equal(c2, c);
    assert.ok(sm.byteLength() >= c + 200_000);
    const v = new Uint8Array(sm.buffer);
    for (let i = 0; i < 50; i++) assert.equal(v[c2 + i], i + 1);
    const a2 = sm.realloc(a, 4000); // not at the top: moves there, contents copied
    assert.ok(a2 > c2);
    sm.free(d);
    sm.free(c2);
    sm.free(a2);
    assert.equal(sm.alloc(16), 16, 'everything freed: allocation starts over at the bottom');
  });
});
