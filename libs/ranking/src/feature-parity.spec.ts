import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BucketTables, encodeTables, hasherFor } from '@recsys/sdim';
import { FeatureAssembler } from './feature-assembly';
import { parseFeatureSpec } from './feature-spec';
import { ItemFeatureTable } from './item-features';

/**
 * Feature parity with the Python training pipeline on the shared test rows
 * (ops/training/test-vectors/features-v1.json, CONTRACT.md section 4): the TypeScript assembly
 * reproduces every row, integers exactly and floats within 1e-6. The users' SDIM tables are built
 * the way the behavior service builds them (libs/sdim BucketTables over the float32 embeddings of
 * the history, encoded with the default codec); a history item the vectors do not list enters as a
 * zero vector, as in the Python pipeline.
 */
interface Vectors {
  spec: unknown;
  items: { itemId: string; embedding: number[]; genres?: string[]; year?: number | null }[];
  histories: Record<string, string[]>;
  rows: { userId: string; itemId: string; domain: string; features: Record<string, number | number[]> }[];
}

function vectorsPath(): string {
  let dir = resolve(__dirname);
  for (;;) {
    const p = join(dir, 'ops/training/test-vectors/features-v1.json');
    if (existsSync(join(dir, 'package.json')) && existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error(`ops/training/test-vectors/features-v1.json not found above ${__dirname}`);
    dir = dirname(dir);
  }
}

describe('feature parity with the Python pipeline (features-v1.json)', () => {
  const v: Vectors = JSON.parse(readFileSync(vectorsPath(), 'utf8'));
  const spec = parseFeatureSpec(v.spec);
  const hasher = hasherFor(spec.sdim);
  const d = spec.embedding.dim;
  const items = new ItemFeatureTable(hasher);
  for (const it of v.items) items.upsert({ itemId: it.itemId, embedding: it.embedding, genres: it.genres ?? [], year: it.year ?? undefined });
  const tables = new Map<string, Buffer>();
  for (const [user, history] of Object.entries(v.histories)) {
    const t = new BucketTables(hasher);
    for (const id of history) t.add(items.get(id)?.embedding ?? new Float32Array(d));
    tables.set(user, encodeTables(t));
  }
  const assembler = new FeatureAssembler(spec, hasher);

  it('covers known and unknown users and items', () => {
    assert.ok(v.rows.length >= 10, `${v.rows.length} rows`);
    assert.ok(
      v.rows.some((r) => !items.get(r.itemId)),
      'a row with an item outside the catalog',
    );
    assert.ok(
      v.rows.some((r) => !tables.has(r.userId)),
      'a row with a user without history',
    );
  });

  it('reproduces every row: integers exactly, floats within 1e-6', () => {
    let maxDiff = 0;
    for (const row of v.rows) {
      const f = assembler.assemble({ userId: row.userId, domain: row.domain, itemIds: [row.itemId], tables: tables.get(row.userId) ?? null }, (id) => items.get(id));
      const at = `${row.userId}/${row.itemId}/${row.domain}`;
      assert.deepEqual(Object.keys(f.feeds).sort(), Object.keys(row.features).sort(), at);
      for (const name of ['user_bucket', 'item_bucket', 'domain']) {
        assert.equal(Number((f.feeds[name].data as BigInt64Array)[0]), row.features[name], `${name} of ${at}`);
      }
      for (const name of ['item_dense', 'item_emb', 'sdim_interest']) {
        const want = row.features[name] as number[];
        const got = f.feeds[name].data as Float32Array;
        assert.equal(got.length, want.length, `${name} of ${at}`);
        for (let k = 0; k < want.length; k++) {
          const diff = Math.abs(got[k] - want[k]);
          maxDiff = Math.max(maxDiff, diff);
          assert.ok(diff <= 1e-6, `${name}[${k}] of ${at}: ${got[k]} vs ${want[k]}`);
        }
      }
    }
    assert.ok(maxDiff <= 1e-6);
  });
});
