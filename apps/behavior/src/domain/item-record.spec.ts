import assert from 'node:assert/strict';
import { SdimHasher, SplitMix64, encodeDelta, snapVector, toFixedPoint } from '@recsys/sdim';
import { ItemRecord, configFingerprint, decodeItem, encodeItem, itemDelta } from './item-record';

const SDIM = { seed: 7, m: 12, tau: 3, d: 8 };

function record(hasher: SdimHasher, seed: number): ItemRecord {
  const r = new SplitMix64(seed);
  const embedding = Float32Array.from({ length: SDIM.d }, () => Math.fround(r.nextDouble() * 2 - 1));
  const rec = {
    itemId: `i${seed}`,
    embedding,
    version: 3,
    updatedAt: 1,
    deleted: false,
    group: 'g',
    fingerprint: configFingerprint(hasher.config),
    signatures: Uint8Array.from(hasher.signatures(embedding)),
  };
  // As the repository meets it: decoded from the store.
  return decodeItem(rec.itemId, encodeItem(rec));
}

describe('item record', () => {
  it("itemDelta is encodeDelta of the item's signatures and fixed-point embedding, encoded once per sign", () => {
    const h = new SdimHasher(SDIM);
    const fp = configFingerprint(SDIM);
    const rec = record(h, 1);
    const op = (sign: 1 | -1) => ({ sign, signatures: h.signatures(rec.embedding), fixed: toFixedPoint(snapVector(rec.embedding)) });
    for (const sign of [1, -1] as const) {
      const d = itemDelta(rec, sign, h, fp);
      assert.deepEqual(d, encodeDelta(op(sign), h.config));
      assert.equal(itemDelta(rec, sign, h, fp), d, 'the cached buffer comes back');
    }
    assert.notDeepEqual(itemDelta(rec, 1, h, fp), itemDelta(rec, -1, h, fp));
  });

  it('itemDelta under another hasher is encoded for that hasher, not taken from the cache', () => {
    const h = new SdimHasher(SDIM);
    const rec = record(h, 2);
    itemDelta(rec, 1, h, configFingerprint(SDIM));
    const other = new SdimHasher({ ...SDIM, seed: 8 });
    const fp = configFingerprint(other.config);
    const want = encodeDelta({ sign: 1, signatures: other.signatures(rec.embedding), fixed: toFixedPoint(snapVector(rec.embedding)) }, other.config);
    assert.deepEqual(itemDelta(rec, 1, other, fp), want);
  });
});
