import assert from 'node:assert/strict';
import { BucketTables, NORMALIZATIONS, encodeTables, hasherFor, interestFromEncodedSignatures, SdimHasher } from '@recsys/sdim';
import { FeatureAssembler, UnknownDomainError } from './feature-assembly';
import { fnv1a32 } from './fnv1a';
import { ItemFeatureTable, itemAttributes } from './item-features';
import { exampleFeatureSpec, MOVIELENS_GENRES } from './spec-fixture';

const D = 32;
const spec = exampleFeatureSpec();
const hasher = hasherFor({ seed: spec.sdim.seed, m: spec.sdim.m, tau: spec.sdim.tau, d: D });
const vec = (i: number) => Array.from({ length: D }, (_, k) => Math.round(Math.sin(i * 1.3 + k * 0.7) * 1e4) / 1e4);

function setup() {
  const table = new ItemFeatureTable(hasher);
  table.upsert({ itemId: 'i1', embedding: vec(1), genres: ['Action', 'Thriller', 'NotAGenre'], year: 1995 });
  table.upsert({ itemId: 'i2', embedding: vec(2), genres: ['Drama'] });
  table.upsert({ itemId: 'ñ3', embedding: vec(3), genres: [], year: 2001 });
  const tables = new BucketTables(hasher);
  for (const i of [1, 2, 3, 4, 5]) tables.add(Float32Array.from(vec(i)));
  return { table, blob: encodeTables(tables), tables };
}

describe('FeatureAssembler', () => {
  it('builds every input as the contract defines it, known and unknown items alike', () => {
    const { table, blob, tables } = setup();
    const a = new FeatureAssembler(spec, hasher);
    const ids = ['i1', 'nope', 'i2', 'ñ3'];
    const f = a.assemble({ userId: 'u1', domain: 'thrill', itemIds: ids, tables: blob }, (id) => table.get(id));
    assert.equal(f.batch, 4);
    assert.equal(f.unknownItems, 1);
    assert.equal(f.user, 'history');
    assert.deepEqual(Object.keys(f.feeds).sort(), ['domain', 'item_bucket', 'item_dense', 'item_emb', 'sdim_interest', 'user_bucket']);

    assert.deepEqual([...(f.feeds.user_bucket.data as BigInt64Array)], Array(4).fill(BigInt(fnv1a32('u1') % 2048)));
    assert.deepEqual([...(f.feeds.domain.data as BigInt64Array)], Array(4).fill(1n));
    assert.deepEqual(
      [...(f.feeds.item_bucket.data as BigInt64Array)],
      ids.map((id) => BigInt(fnv1a32(id) % 4096)),
    );

    const w = MOVIELENS_GENRES.length + 1;
    assert.deepEqual([...f.feeds.item_dense.dims], [4, w]);
    const dense = f.feeds.item_dense.data as Float32Array;
    const row = (i: number) => [...dense.subarray(i * w, (i + 1) * w)];
    const flags = (names: string[], year: number) => [...MOVIELENS_GENRES.map((g) => (names.includes(g) ? 1 : 0)), Math.fround(year)];
    assert.deepEqual(row(0), flags(['Action', 'Thriller'], 0.95));
    assert.deepEqual(row(1), flags([], 0.9), 'unknown item: no genres, yearDefault');
    assert.deepEqual(row(2), flags(['Drama'], 0.9), 'unknown year: yearDefault');
    assert.deepEqual(row(3), flags([], 1.01));

    const emb = f.feeds.item_emb.data as Float32Array;
    assert.deepEqual([...emb.subarray(0, D)], [...Float32Array.from(vec(1))]);
    assert.deepEqual([...emb.subarray(D, 2 * D)], Array(D).fill(0), 'unknown item: zero embedding');

    const interest = f.feeds.sdim_interest.data as Float32Array;
    const expect = (q: ArrayLike<number>) => [...Float32Array.from(tables.interest(Float32Array.from(q), { normalize: spec.sdim.normalize }))];
    assert.deepEqual([...interest.subarray(0, D)], expect(vec(1)));
    assert.deepEqual([...interest.subarray(D, 2 * D)], expect(new Array(D).fill(0)), 'unknown item: interest of the zero vector');
    assert.deepEqual([...interest.subarray(3 * D, 4 * D)], expect(vec(3)));
    assert.ok(Math.hypot(...interest.subarray(0, D)) > 0.1);
  });

  it('sdim_interest equals libs/sdim interestFromEncodedSignatures (rounded to float32) for every normalisation and blob dtype', () => {
    const { table } = setup();
    for (let i = 10; i < 400; i++) table.upsert({ itemId: `x${i}`, embedding: vec(i) });
    const ids = Array.from({ length: 390 }, (_, i) => `x${i + 10}`).concat(['missing']);
    const t = new BucketTables(hasher);
    for (let i = 10; i < 200; i += 3) t.add(Float32Array.from(vec(i)));
    for (const normalize of NORMALIZATIONS) {
      for (const dtype of ['i32', 'f64'] as const) {
        const blob = encodeTables(t, { dtype });
        const s = exampleFeatureSpec({ sdim: { ...spec.sdim, normalize } });
        const f = new FeatureAssembler(s, hasher).assemble({ userId: 'u', domain: 'drama', itemIds: ids, tables: blob }, (id) => table.get(id));
        const sigs = ids.map((id) => table.get(id)?.signatures ?? hasher.signatures(new Float64Array(D)));
        const want = Float32Array.from(interestFromEncodedSignatures(blob, hasher, sigs, normalize));
        assert.deepEqual(f.feeds.sdim_interest.data, want, `${normalize} ${dtype}`);
      }
    }
  });

  it('a user without tables gets zero interest; tables from other hash functions are ignored, not fatal', () => {
    const { table } = setup();
    const a = new FeatureAssembler(spec, hasher);
    const none = a.assemble({ userId: 'new', domain: 'family', itemIds: ['i1', 'i2'], tables: null }, (id) => table.get(id));
    assert.equal(none.user, 'none');
    assert.ok((none.feeds.sdim_interest.data as Float32Array).every((v) => v === 0));

    const other = new BucketTables(new SdimHasher({ seed: 1, m: 48, tau: 3, d: D }));
    other.add(vec(1));
    const bad = a.assemble({ userId: 'u', domain: 'family', itemIds: ['i1'], tables: encodeTables(other) }, (id) => table.get(id));
    assert.equal(bad.user, 'invalid');
    assert.match(bad.userProblem!, /built with/);
    assert.ok((bad.feeds.sdim_interest.data as Float32Array).every((v) => v === 0));
    const corrupt = a.assemble({ userId: 'u', domain: 'family', itemIds: ['i1'], tables: Buffer.from('garbage-garbage-garbage-garbage') }, (id) => table.get(id));
    assert.equal(corrupt.user, 'invalid');
  });

  it('an unknown domain is an error naming the known ones; an empty batch is fine', () => {
    const a = new FeatureAssembler(spec, hasher);
    assert.throws(
      () => a.assemble({ userId: 'u', domain: 'sports', itemIds: ['i1'], tables: null }, () => undefined),
      (e: Error) => e instanceof UnknownDomainError && /'family', 'thrill', 'drama'/.test(e.message),
    );
    const f = a.assemble({ userId: 'u', domain: 'drama', itemIds: [], tables: null }, () => undefined);
    assert.equal(f.batch, 0);
    assert.deepEqual([...f.feeds.item_emb.dims], [0, D]);
  });

  it('computes only the inputs the spec declares', () => {
    const s = exampleFeatureSpec({
      inputs: [
        { name: 'item_bucket', dtype: 'int64', shape: [-1] },
        { name: 'item_emb', dtype: 'float32', shape: [-1, D] },
      ],
    });
    const f = new FeatureAssembler(s, hasher).assemble({ userId: 'u', domain: 'drama', itemIds: ['x'], tables: null }, () => undefined);
    assert.deepEqual(Object.keys(f.feeds).sort(), ['item_bucket', 'item_emb']);
  });

  it('refuses a hasher that differs from the spec', () => {
    assert.throws(() => new FeatureAssembler(spec, hasherFor({ seed: 3, m: 48, tau: 3, d: D })), /does not match/);
  });

  it('itemAttributes reads genres and year from catalog attributes, ignoring bad values', () => {
    assert.deepEqual(itemAttributes({ genres: ['Action', 'Drama'], year: 1999 }), { genres: ['Action', 'Drama'], year: 1999 });
    assert.deepEqual(itemAttributes({ genres: 'Drama', year: 'n/a' }), { genres: ['Drama'], year: undefined });
    assert.deepEqual(itemAttributes(undefined), { genres: [], year: undefined });
  });

  it('the item table rejects embeddings of the wrong dimension and deletes', () => {
    const t = new ItemFeatureTable(hasher);
    assert.throws(() => t.upsert({ itemId: 'x', embedding: [1, 2, 3] }), /dimension 3, expected 32/);
    t.upsert({ itemId: 'x', embedding: vec(9) });
    assert.equal(t.size, 1);
    assert.deepEqual([...t.get('x')!.signatures], [...hasher.signatures(Float32Array.from(vec(9)))]);
    assert.equal(t.delete('x'), true);
    assert.equal(t.get('x'), undefined);
  });
});
