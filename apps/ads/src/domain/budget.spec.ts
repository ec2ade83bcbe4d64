import assert from 'node:assert/strict';
import { zonedTime } from '@recsys/ads';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { BudgetLedger, type ReserveRequest } from './budget';
import { TokenCodec } from './token';

describe('BudgetLedger (memory store: the same scripts as on Redis, run in one tick)', () => {
  let store: MemoryStateStore;
  let ledger: BudgetLedger;
  const now = Date.UTC(2030, 0, 1, 12);
  const base: Omit<ReserveRequest, 'token'> = {
    campaignId: 'c1',
    day: '2030-01-01',
    amountMicros: 1000,
    dailyBudgetMicros: 10_000,
    totalBudgetMicros: 15_000,
    userId: 'u',
    frequencyCap: null,
    expiresAt: now + 60_000,
    now,
  };
  beforeEach(() => {
    store = new MemoryStateStore();
    ledger = new BudgetLedger(store);
  });
  afterEach(() => store.close());

  const settle = (token: string, eventId: string, bill = true, day = '2030-01-01') => ledger.settle({ campaignId: 'c1', day, token, eventId, bill, impression: true, click: false, hour: 12 });

  it('replayed billing events change nothing', async () => {
    for (let i = 0; i < 5; i++) assert.equal(await ledger.reserve({ ...base, token: `t${i}` }), 'reserved');
    const first = await Promise.all([0, 1, 2, 3, 4].map((i) => settle(`t${i}`, `e${i}`)));
    assert.ok(first.every((r) => r.status === 'billed' && r.micros === 1000));
    const snapshot = await ledger.day('c1', '2030-01-01');
    for (let k = 0; k < 3; k++) {
      const again = await Promise.all([0, 1, 2, 3, 4].map((i) => settle(`t${i}`, `e${i}`)));
      assert.ok(again.every((r) => r.status === 'duplicate'));
    }
    assert.deepEqual(await ledger.day('c1', '2030-01-01'), snapshot);
    assert.equal(snapshot.spent, 5000);
    assert.equal(snapshot.reserved, 0);
    assert.equal(snapshot.imps, 5);
    assert.equal(snapshot.hourly.spend[12], 5000);
    // a new event id on a settled reservation is not billed again
    assert.deepEqual(await settle('t0', 'other'), { status: 'late' });
    assert.equal((await ledger.day('c1', '2030-01-01')).spent, 5000);
  });

  it('the daily budget resets on the campaign-local day; the total budget does not', async () => {
    let won = 0;
    for (let i = 0; i < 20; i++) if ((await ledger.reserve({ ...base, token: `a${i}` })) === 'reserved') won++;
    assert.equal(won, 10);
    for (let i = 0; i < 10; i++) assert.equal((await settle(`a${i}`, `ea${i}`)).status, 'billed');
    // 23:30 UTC on 1 Jan is already 2 Jan in Berlin: a new daily budget, limited by the total (15 000)
    const late = Date.UTC(2030, 0, 1, 23, 30);
    const day2 = zonedTime(late, 'Europe/Berlin').day;
    assert.equal(day2, '2030-01-02');
    won = 0;
    for (let i = 0; i < 20; i++) if ((await ledger.reserve({ ...base, day: day2, now: late, expiresAt: late + 60_000, token: `b${i}` })) === 'reserved') won++;
    assert.equal(won, 5);
  });

  it('a release gives the money back once; CPC impressions count without billing', async () => {
    assert.equal(await ledger.reserve({ ...base, token: 'r' }), 'reserved');
    assert.equal(await ledger.release('c1', '2030-01-01', 'r'), 1000);
    assert.equal(await ledger.release('c1', '2030-01-01', 'r'), 0);
    assert.equal((await ledger.day('c1', '2030-01-01')).reserved, 0);
    await ledger.reserve({ ...base, token: 'k' });
    assert.deepEqual(await settle('k', 'imp', false), { status: 'counted' });
    const clk = await ledger.settle({ campaignId: 'c1', day: '2030-01-01', token: 'k', eventId: 'clk', bill: true, impression: false, click: true, hour: 3 });
    assert.deepEqual(clk, { status: 'billed', micros: 1000 });
    const d = await ledger.day('c1', '2030-01-01');
    assert.deepEqual([d.imps, d.clicks, d.hourly.clicks[3], d.spent], [1, 1, 1, 1000]);
  });

  it('frequency caps count per user and day', async () => {
    const capped = { ...base, frequencyCap: 2 };
    const r = await Promise.all(Array.from({ length: 6 }, (_, i) => ledger.reserve({ ...capped, token: `f${i}` })));
    assert.deepEqual(r.filter((x) => x === 'reserved').length, 2);
    assert.ok(r.includes('frequency_cap'));
    assert.equal(await ledger.reserve({ ...capped, userId: 'v', token: 'v1' }), 'reserved');
    assert.equal(await ledger.reserve({ ...capped, day: '2030-01-02', token: 'n1' }), 'reserved');
  });

  it('conversions are counted by hour, once per event id, and never billed', async () => {
    await ledger.reserve({ ...base, token: 'cv' });
    const conv = { campaignId: 'c1', day: '2030-01-01', token: 'cv', eventId: 'conv-1', bill: false, impression: false, click: false, conversion: true, hour: 5 };
    assert.deepEqual(await ledger.settle(conv), { status: 'counted' });
    assert.deepEqual(await ledger.settle(conv), { status: 'duplicate' });
    const d = await ledger.day('c1', '2030-01-01');
    assert.deepEqual([d.conversions, d.hourly.conversions[5], d.spent, d.reserved], [1, 1, 0, 1000]);
  });

  it('tokens round-trip under their key; garbage, unsigned, edited or foreign-key tokens do not decode', () => {
    const codec = new TokenCodec('k'.repeat(32));
    const t = { c: 'camp.1', a: 'ad:1', d: '2030-01-01', b: 'cpc' as const, r: 'xyz' };
    const s = codec.encode(t);
    assert.deepEqual(codec.decode(s), t);
    assert.equal(codec.decode('nope'), null);
    const payload = (x: object) => Buffer.from(JSON.stringify(x)).toString('base64url');
    assert.equal(codec.decode(payload(t)), null, 'an unsigned token (the old format)');
    // another campaign's id with the original mac: refused
    const [, mac] = s.split('.');
    assert.equal(codec.decode(`${payload({ ...t, c: 'other' })}.${mac}`), null);
    assert.equal(codec.decode(`${s.split('.')[0]}.${Buffer.alloc(16).toString('base64url')}`), null);
    assert.equal(new TokenCodec('x'.repeat(32)).decode(s), null, 'signed with another key');
    assert.equal(codec.decode(`${s}.x`), null);
    assert.throws(() => new TokenCodec('short'), RangeError);
  });
});
