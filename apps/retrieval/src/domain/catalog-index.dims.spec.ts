import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogChangeRejected, CatalogIndex } from './catalog-index';
import { DefaultIndexFactory } from './index-factory';

const root = mkdtempSync(join(tmpdir(), 'retrieval-dims-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const upsert = (itemId: string, embedding: number[], namespace = 'items') => ({ op: 'upsert' as const, namespace, itemId, embedding });
const rejection = (index: CatalogIndex, change: ReturnType<typeof upsert>) => {
  try {
    index.applyNow(change);
  } catch (e) {
    assert.ok(e instanceof CatalogChangeRejected);
    return e.code;
  }
  return 'applied';
};

describe('retrieval: declared namespace dimensions and the shared embedding check', () => {
  it.each(['hnsw', 'exact'] as const)('%s: the first upsert does not fix the dimension; poison vectors are rejected with a code, never thrown at the engine', (kind) => {
    const index = new CatalogIndex(new DefaultIndexFactory(join(root, kind)), { kind, metric: 'cosine', dims: { items: 4 } });
    // A wrong first message cannot poison the namespace.
    assert.equal(rejection(index, upsert('a', [1, 2, 3])), 'dimension_mismatch');
    assert.equal(rejection(index, upsert('b', [1, 0, 0, 0])), 'applied');
    assert.equal(index.get('items')!.dim, 4);
    assert.equal(rejection(index, upsert('c', [1e39, 0, 0, 0])), 'vector_out_of_range');
    assert.equal(rejection(index, upsert('d', [-1e300, 0, 0, 0])), 'vector_out_of_range');
    assert.equal(rejection(index, upsert('e', [NaN, 0, 0, 0])), 'vector_not_finite');
    assert.equal(rejection(index, upsert('f', [1000, 1000, 0, 0])), 'vector_norm_too_large');
    assert.equal(rejection(index, upsert('g', [1, 0, 0, 0], 'videos')), 'unknown_namespace');
    assert.equal(rejection(index, upsert('h', [0, 1, 0, 0])), 'applied');
    assert.deepEqual(
      index.search('items', [0, 1, 0, 0], 5).map((h) => h.id),
      ['h', 'b'],
    );
  });

  it('refuses a snapshot whose namespace dimension disagrees with the declaration', async () => {
    const dir = join(root, 'snap');
    const a = new CatalogIndex(new DefaultIndexFactory(join(root, 'a')), { kind: 'exact', metric: 'l2', dims: { items: 2 } });
    a.applyNow(upsert('x', [1, 2]));
    await a.snapshot(dir);
    const b = new CatalogIndex(new DefaultIndexFactory(join(root, 'b')), { kind: 'exact', metric: 'l2', dims: { items: 3 } });
    await assert.rejects(b.restore(dir), /NAMESPACE_DIMS declares 3/);
    const c = new CatalogIndex(new DefaultIndexFactory(join(root, 'c')), { kind: 'exact', metric: 'l2', dims: { items: 2 } });
    assert.equal(await c.restore(dir), true);
    assert.equal(c.get('items')!.size(), 1);
  });
});
