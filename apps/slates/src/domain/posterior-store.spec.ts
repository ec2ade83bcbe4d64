import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { decodeJoin, encodeJoin } from './feedback-learner';
import { slatesKeys } from './keys';
import { decodeRecord, encodeEffect, encodeItem, PosteriorStore } from './posterior-store';

describe('posterior store encoding', () => {
  it('binary records round-trip, and JSON records of earlier versions still read', () => {
    const rec = { m: -0.3125, q: 17.5, clicks: 3, exposures: 41.25, updatedAt: 1_733_000_000_123, group: 'Film-Noir é' };
    expect(decodeRecord(encodeItem(rec))).toEqual(rec);
    expect(encodeItem(rec).length).toBe(41 + Buffer.byteLength(rec.group));
    expect(decodeRecord(encodeEffect({ m: 1, q: 2, clicks: 0, exposures: 0 }))).toEqual({ m: 1, q: 2, clicks: 0, exposures: 0, updatedAt: 0, group: '' });
    expect(decodeRecord(Buffer.from(JSON.stringify(rec)))).toEqual(rec);
  });

  it('readForSlate: one batched read; stored items as stored, others at the prior, groups indexed per candidate', async () => {
    const state = new MemoryStateStore();
    await state.setMany([
      [slatesKeys.slope(), encodeEffect({ m: 1.2, q: 300, clicks: 5, exposures: 90 })],
      [slatesKeys.group('g1'), encodeEffect({ m: 0.4, q: 50, clicks: 5, exposures: 60 })],
      [slatesKeys.item('a'), encodeItem({ m: 0.7, q: 20, clicks: 2, exposures: 9, updatedAt: 1, group: 'g1' })],
      [slatesKeys.item('c'), JSON.stringify({ m: -0.2, q: 8, clicks: 0, exposures: 3, group: '_' })],
    ]);
    let reads = 0;
    const getMany = state.getMany.bind(state);
    state.getMany = (keys: string[]) => {
      reads++;
      return getMany(keys);
    };
    const store = new PosteriorStore(state);
    const s = await store.readForSlate(['a', 'b', 'c'], ['g1', 'g2', undefined]);
    expect(reads).toBe(1);
    expect(s.slope).toMatchObject({ m: 1.2, q: 300 });
    expect(s.groupNames).toEqual(['g1', 'g2', '_']);
    expect(Array.from(s.groupOf)).toEqual([0, 1, 2]);
    expect(Array.from(s.groupM)).toEqual([0.4, 0, 0]);
    expect(Array.from(s.groupQ)).toEqual([50, store.prior.groupPrecision, store.prior.groupPrecision]);
    expect(Array.from(s.itemM)).toEqual([0.7, 0, -0.2]);
    expect(Array.from(s.itemQ)).toEqual([20, store.prior.itemPrecision, 8]);
    expect(Array.from(s.itemClicks)).toEqual([2, 0, 0]);
  });
});

describe('join records', () => {
  it('compact records round-trip, and keyed records of earlier versions still read', () => {
    const rec = {
      imp: {
        ts: 1000,
        receivedAt: 1005,
        items: [
          { id: 'a', pos: 0, score: 0.1, group: 'g', st: 'c' as const },
          { id: 'b|x', pos: 1, score: 0.25, group: '_', st: 'p' as const },
        ],
      },
      early: {},
      seen: ['imp-1', 'clk-1'],
      done: true,
    };
    expect(decodeJoin(Buffer.from(encodeJoin(rec)))).toEqual(rec);
    const waiting = { early: { a: 990, 'b"q': 991 }, seen: ['clk-0'] };
    expect(decodeJoin(Buffer.from(encodeJoin(waiting)))).toEqual(waiting);
    expect(decodeJoin(Buffer.from(JSON.stringify(rec)))).toEqual(rec);
    expect(encodeJoin(rec).length).toBeLessThan(JSON.stringify(rec).length);
  });
});
