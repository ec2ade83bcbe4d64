import assert from 'node:assert/strict';
import { stateStoreContract } from './state-store.contract';
import { globToRegExp } from './state-store.glob';
import { MemoryStateStore } from './state-store.memory.adapter';

stateStoreContract('memory', async () => new MemoryStateStore({ sweepIntervalMs: 20 }));

describe('MemoryStateStore specifics', () => {
  it('the periodic sweep drops expired keys nobody reads again', async () => {
    const s = new MemoryStateStore({ sweepIntervalMs: 10_000 });
    try {
      for (let i = 0; i < 10; i++) await s.set(`t${i}`, 'v', { ttlMs: 1 });
      await s.set('keep', 'v', { ttlMs: 60_000 });
      await s.set('plain', 'v');
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.sweep(), 10);
      assert.equal(s.sweep(), 0);
      assert.deepEqual((await s.scanKeys('*')).sort(), ['keep', 'plain']);
    } finally {
      await s.close();
    }
  });

  it('the timer sweeps on its own', async () => {
    const s = new MemoryStateStore({ sweepIntervalMs: 10 });
    try {
      await s.set('t', 'v', { ttlMs: 5 });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(s.sweep(), 0, 'already swept by the timer');
    } finally {
      await s.close();
    }
  });

  it('incrBy refuses to overflow int64 like Redis', async () => {
    const s = new MemoryStateStore();
    try {
      await s.set('big', '9223372036854775807');
      await assert.rejects(s.incrBy('big', 1), /overflow/);
      await s.set('lead', '007');
      await assert.rejects(s.incrBy('lead', 1), /not an integer/);
      await s.set('plus', '+1');
      await assert.rejects(s.incrBy('plus', 1), /not an integer/);
    } finally {
      await s.close();
    }
  });

  it('globToRegExp follows Redis glob rules', () => {
    const m = (g: string, k: string) => globToRegExp(g).test(k);
    assert.equal(m('user:*', 'user:'), true);
    assert.equal(m('user:?', 'user:12'), false);
    assert.equal(m('h[ae]llo', 'hallo'), true);
    assert.equal(m('h[ae]llo', 'hillo'), false);
    assert.equal(m('h[^e]llo', 'hello'), false);
    assert.equal(m('h[a-c]llo', 'hbllo'), true);
    assert.equal(m('a\\*b', 'a*b'), true);
    assert.equal(m('a\\*b', 'axb'), false);
    assert.equal(m('a.b', 'axb'), false);
    assert.equal(m('*', 'any\nthing'), true);
  });
});
