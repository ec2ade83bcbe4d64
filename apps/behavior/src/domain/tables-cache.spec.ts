import assert from 'node:assert/strict';
import { TablesCache } from './tables-cache';

const op = { sign: 1 as const, signatures: [0], fixed: new Int32Array(1) };
const entry = (blobBytes: number, pending = 0) => ({ stamp: 1, blob: Buffer.alloc(blobBytes), pending: Array.from({ length: pending }, () => op) });

describe('TablesCache', () => {
  it('take removes the entry; set charges blob, entry and pending updates', () => {
    const c = new TablesCache(10_000);
    const e = entry(1000, 3);
    c.set('u', e);
    assert.equal(c.charged, 1000 + 128 + 3 * 64);
    assert.equal(c.take('u'), e);
    assert.equal(c.take('u'), undefined);
    assert.equal(c.charged, 0);
  });

  it('evicts the least recently stored entries beyond the budget; an entry above the budget is not kept', () => {
    const c = new TablesCache(3 * (1000 + 128));
    for (const u of ['a', 'b', 'c']) c.set(u, entry(1000));
    // Stored again after a take: the most recent.
    c.set('a', c.take('a')!);
    c.set('d', entry(1000));
    assert.equal(c.size, 3);
    assert.equal(c.take('b'), undefined, 'the oldest went');
    assert.ok(c.take('a') && c.take('c') && c.take('d'));
    c.set('big', entry(4000));
    assert.equal(c.size, 0);
    assert.equal(c.charged, 0);
  });

  it('charges what was stored, even if the caller changes the entry later', () => {
    const c = new TablesCache(100_000);
    const e = entry(1000);
    c.set('u', e);
    e.pending.push(op, op);
    c.set('v', entry(10));
    c.take('u');
    assert.equal(c.charged, 10 + 128);
  });
});
