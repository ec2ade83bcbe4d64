import assert from 'node:assert/strict';
import { SplitMix64 } from '@recsys/sdim';
import { TablesCache, type CachedTables } from './tables-cache';

const op = { sign: 1 as const, signatures: [0], fixed: new Int32Array(1) };
const entry = (blobBytes: number, pending = 0): CachedTables => ({ stamp: 1, blob: Buffer.alloc(blobBytes), pending: Array.from({ length: pending }, () => op) });

/** What the cache charges for an entry, measured on an unbounded cache (no constant of the implementation restated here). */
function chargeOf(e: CachedTables): number {
  const c = new TablesCache(Number.MAX_SAFE_INTEGER);
  c.set('probe', e);
  return c.charged;
}

describe('TablesCache', () => {
  it('charges the blob byte for byte plus a positive overhead that grows with the pending updates', () => {
    const small = chargeOf(entry(1000));
    assert.equal(chargeOf(entry(5000)) - small, 4000, 'every blob byte is charged');
    assert.ok(small > 1000, 'an entry costs more than its blob');
    assert.ok(chargeOf({ stamp: 1, blob: null, pending: [] }) > 0, 'an entry without a blob still costs something');
    const perOp = chargeOf(entry(1000, 1)) - small;
    assert.ok(perOp > 0, 'a pending update is charged');
    assert.equal(chargeOf(entry(1000, 5)) - small, 5 * perOp, 'each pending update alike');
  });

  it('take removes the entry and gives its charge back', () => {
    const c = new TablesCache(1_000_000);
    const e = entry(1000, 3);
    c.set('u', e);
    c.set('v', entry(10));
    assert.equal(c.charged, chargeOf(e) + chargeOf(entry(10)));
    assert.equal(c.take('u'), e);
    assert.equal(c.take('u'), undefined);
    assert.equal(c.size, 1);
    assert.equal(c.charged, chargeOf(entry(10)));
  });

  it('evicts the least recently stored entries beyond the budget; an entry above the budget is not kept', () => {
    const one = chargeOf(entry(1000));
    const c = new TablesCache(3 * one);
    for (const u of ['a', 'b', 'c']) c.set(u, entry(1000));
    // Stored again after a take: the most recent.
    c.set('a', c.take('a')!);
    c.set('d', entry(1000));
    assert.equal(c.size, 3);
    assert.equal(c.take('b'), undefined, 'the oldest went');
    assert.ok(c.take('a') && c.take('c') && c.take('d'));
    const exact = new TablesCache(one);
    exact.set('fits', entry(1000));
    assert.equal(exact.size, 1, 'an entry of exactly the budget is kept');
    const tight = new TablesCache(one - 1);
    tight.set('big', entry(1000));
    assert.equal(tight.size, 0);
    assert.equal(tight.charged, 0);
  });

  it('never holds more than its budget, and charges exactly what it holds (random sets and takes)', () => {
    const budget = 50_000;
    const c = new TablesCache(budget);
    const r = new SplitMix64(7n);
    const pick = (n: number) => Math.floor(r.nextDouble() * n);
    let evictions = 0;
    for (let i = 0; i < 2000; i++) {
      const user = `u${pick(40)}`;
      if (pick(3) === 0) c.take(user);
      else {
        const before = c.size;
        c.set(user, entry(pick(20_000), pick(8)));
        if (c.size <= before) evictions++;
      }
      assert.ok(c.charged <= budget, `charged ${c.charged} > budget at step ${i}`);
    }
    assert.ok(evictions > 100, 'the budget was exercised');
    const charged = c.charged;
    const size = c.size;
    const held = Array.from({ length: 40 }, (_, u) => c.take(`u${u}`)).filter((e) => e !== undefined);
    assert.equal(held.length, size);
    assert.equal(
      held.reduce((a, e) => a + chargeOf(e), 0),
      charged,
    );
    assert.equal(c.charged, 0);
  });

  it('charges what was stored, even if the caller changes the entry later', () => {
    const c = new TablesCache(100_000);
    const e = entry(1000);
    c.set('u', e);
    e.pending.push(op, op);
    c.set('v', entry(10));
    c.take('u');
    assert.equal(c.charged, chargeOf(entry(10)));
  });
});
