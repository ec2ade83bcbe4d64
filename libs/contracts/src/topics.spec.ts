import assert from 'node:assert/strict';
import { decodeEvent, EventValidationError, validateEvent } from './index';

const base = { eventId: 'e1', timestamp: 1700000000000, schemaVersion: 1 as const };

describe('event contracts', () => {
  it('decodes the same bytes for two consumers into objects of their own (the parse is shared, the validated objects are not)', () => {
    const bytes = Buffer.from(JSON.stringify({ ...base, key: 'i1', op: 'upsert', namespace: 'items', itemId: 'i1', embedding: [0.1, 0.2] }));
    const a = decodeEvent('catalog.items', bytes);
    const b = decodeEvent('catalog.items', bytes);
    assert.deepEqual(a, b);
    assert.notEqual(a, b);
    (a as { embedding: number[] }).embedding[0] = 9;
    assert.equal((b as { embedding: number[] }).embedding[0], 0.1);
    assert.equal((decodeEvent('catalog.items', bytes) as { embedding: number[] }).embedding[0], 0.1);
  });

  it('accepts a valid catalog upsert and rejects an upsert without embedding', () => {
    const ok = validateEvent('catalog.items', { ...base, key: 'i1', op: 'upsert', namespace: 'items', itemId: 'i1', embedding: [0.1, 0.2] });
    assert.equal(ok.itemId, 'i1');
    assert.throws(
      () => validateEvent('catalog.items', { ...base, key: 'i1', op: 'upsert', namespace: 'items', itemId: 'i1' }),
      (e: EventValidationError) => e.issues.some((i) => i.path === 'embedding'),
    );
  });

  it('lists every problem, including a key that is not the entity id', () => {
    try {
      validateEvent('user.behaviors', { ...base, key: 'u2', userId: 'u1', itemId: '', type: 'teleport' });
      assert.fail('should throw');
    } catch (e) {
      const paths = (e as EventValidationError).issues.map((i) => i.path).sort();
      assert.ok(paths.includes('itemId') && paths.includes('type'), paths.join(','));
    }
    assert.throws(() => validateEvent('user.behaviors', { ...base, key: 'u2', userId: 'u1', itemId: 'i', type: 'click' }), /key must equal userId/);
  });

  it('rejects NaN-like and non-finite embeddings and unknown schema versions', () => {
    assert.throws(() => validateEvent('catalog.items', { ...base, key: 'i', op: 'upsert', namespace: 'items', itemId: 'i', embedding: [1, Infinity] }));
    assert.throws(() => validateEvent('catalog.items', { ...base, schemaVersion: 2, key: 'i', op: 'delete', namespace: 'items', itemId: 'i' }), /schemaVersion/);
  });

  it('decodes bytes and reports malformed JSON as a validation error', () => {
    const bytes = Buffer.from(JSON.stringify({ ...base, key: 'm', modelName: 'm', version: '3', action: 'promoted_live' }));
    assert.equal(decodeEvent('models.lifecycle', bytes).version, '3');
    assert.throws(() => decodeEvent('models.lifecycle', Buffer.from('{nope')), /not JSON/);
  });

  it('fills defaults on impressions', () => {
    const e = validateEvent('feed.impressions', { ...base, key: 'u', requestId: 'r', userId: 'u', surface: 'home', items: [{ itemId: 'a', position: 0 }] });
    assert.equal(e.items[0].isAd, false);
    assert.deepEqual(e.variants, {});
  });
});
