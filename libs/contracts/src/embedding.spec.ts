import assert from 'node:assert/strict';
import { z } from 'zod';
import { embeddingProblem, embeddingSchema, EMBEDDING_MAX_NORM, FLOAT32_MAX, parseNamespaceDims, validateEvent } from './index';

const upsert = (embedding: number[]) => ({
  eventId: 'e',
  key: 'i',
  timestamp: 1,
  schemaVersion: 1 as const,
  op: 'upsert' as const,
  namespace: 'items',
  itemId: 'i',
  embedding,
});

describe('the one embedding definition', () => {
  it('rejects values beyond float32, non-finite values and norms above the bound, with a code', () => {
    assert.equal(embeddingProblem([0.1, 0.2]), undefined);
    assert.equal(embeddingProblem([1e39, 0])?.code, 'vector_out_of_range');
    assert.equal(embeddingProblem([-1e300])?.code, 'vector_out_of_range');
    assert.equal(embeddingProblem([NaN])?.code, 'vector_not_finite');
    assert.equal(embeddingProblem([Infinity])?.code, 'vector_not_finite');
    assert.equal(embeddingProblem([EMBEDDING_MAX_NORM, 1])?.code, 'vector_norm_too_large');
    assert.equal(embeddingProblem([FLOAT32_MAX])?.code, 'vector_norm_too_large');
    assert.equal(embeddingProblem([])?.code, 'vector_empty');
    assert.equal(embeddingProblem([1, 2, 3], 4)?.code, 'dimension_mismatch');
    assert.equal(embeddingProblem([1, 2, 3, 4], 4), undefined);
  });

  it('the catalog contract and the zod piece apply the same checks', () => {
    assert.throws(() => validateEvent('catalog.items', upsert([1e39, 0])), /float32/);
    assert.throws(() => validateEvent('catalog.items', upsert([-1e300, 0])), /float32/);
    assert.throws(() => validateEvent('catalog.items', upsert([Infinity, 0])));
    assert.throws(() => validateEvent('catalog.items', upsert([2000, 0])), /norm/);
    assert.equal(validateEvent('catalog.items', upsert([0.5, -0.5])).embedding?.length, 2);
    assert.equal(embeddingSchema.safeParse([1e39]).success, false);
    assert.equal(embeddingSchema.safeParse([3, 4]).success, true);
    const json = z.toJSONSchema(embeddingSchema) as { items: { minimum: number; maximum: number } };
    assert.deepEqual([json.items.minimum, json.items.maximum], [-EMBEDDING_MAX_NORM, EMBEDDING_MAX_NORM]);
  });

  it('parses declared namespace dimensions and refuses malformed declarations', () => {
    assert.deepEqual(parseNamespaceDims('items:32, ads:16'), { items: 32, ads: 16 });
    assert.deepEqual(parseNamespaceDims(''), {});
    assert.throws(() => parseNamespaceDims('items'), /namespace/);
    assert.throws(() => parseNamespaceDims('items:0'), /dimension/);
    assert.throws(() => parseNamespaceDims('Items:3'), /lowercase/);
    assert.throws(() => parseNamespaceDims('items:3,items:4'), /twice/);
  });
});
