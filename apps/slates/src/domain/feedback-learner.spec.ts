import type { FeedFeedbackEvent, FeedImpressionEvent } from '@recsys/contracts';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { FeedbackLearner } from './feedback-learner';
import { slatesKeys } from './keys';
import { decodeRecord, PosteriorStore } from './posterior-store';

const env = { key: 'u', schemaVersion: 1 as const, userId: 'u' };
const imp = (req: string, items: [string, number][], t = 1000): FeedImpressionEvent => ({
  ...env,
  eventId: `imp-${req}`,
  timestamp: t,
  requestId: req,
  surface: 'home',
  variants: {},
  items: items.map(([itemId, position]) => ({ itemId, position, isAd: false, score: 0.1, group: 'g' })),
});
const click = (req: string, itemId: string, t = 1010, id = `clk-${req}-${itemId}`): FeedFeedbackEvent => ({ ...env, eventId: id, timestamp: t, requestId: req, itemId, type: 'click' });

function learner(examination: 'pbm' | 'cascade' = 'pbm') {
  let now = 0;
  const state = new MemoryStateStore();
  const l = new FeedbackLearner(state, new PosteriorStore(state), { windowMs: 100, retentionMs: 1000, examination, positions: 5 }, () => now);
  return { l, state, at: (t: number) => (now = t) };
}

/** Every posterior record, without its updatedAt stamp. */
async function snapshot(state: MemoryStateStore) {
  const keys = (await state.scanKeys('{slates}:post:*')).sort();
  const vals = await state.getMany(keys);
  return Object.fromEntries(
    keys.map((k, i) => {
      const { updatedAt: _ignored, ...rest } = decodeRecord(vals[i]!) as unknown as Record<string, unknown>;
      return [k, rest];
    }),
  );
}

describe('feedback learner', () => {
  it('is independent of arrival order: a click before its impression gives the same posteriors', async () => {
    const first = learner();
    await first.l.applyImpressions([
      imp('r1', [
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]),
    ]);
    await first.l.applyFeedback([click('r1', 'b')]);
    first.at(500);
    expect(await first.l.closeDue()).toBe(1);
    const second = learner();
    await second.l.applyFeedback([click('r1', 'b')]);
    await second.l.applyImpressions([
      imp('r1', [
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]),
    ]);
    second.at(500);
    await second.l.closeDue();
    expect(await snapshot(second.state)).toEqual(await snapshot(first.state));
    const b = decodeRecord((await first.state.get(slatesKeys.item('b')))!);
    const a = decodeRecord((await first.state.get(slatesKeys.item('a')))!);
    expect(b.clicks).toBe(1);
    expect(b.m).toBeGreaterThan(0);
    expect(a.m).toBeLessThan(0);
  });

  it('replaying both topics changes nothing; a click outside the window or on an unshown item is ignored', async () => {
    const { l, state, at } = learner();
    const events = {
      imps: [
        imp('r1', [
          ['a', 0],
          ['b', 1],
        ]),
      ],
      clicks: [click('r1', 'a'), click('r1', 'zz'), click('r1', 'b', 5000)],
    };
    await l.applyImpressions(events.imps);
    await l.applyFeedback(events.clicks);
    at(500);
    await l.closeDue();
    const before = await snapshot(state);
    await l.applyImpressions(events.imps);
    await l.applyFeedback(events.clicks);
    at(5000);
    expect(await l.closeDue()).toBe(0);
    expect(await snapshot(state)).toEqual(before);
    const b = decodeRecord((await state.get(slatesKeys.item('b')))!);
    expect(b.clicks).toBe(0);
    expect(await state.get(slatesKeys.item('zz'))).toBeNull();
  });

  it('weights skips by examination: a skip deep in the slate moves less; cascade ignores items below the last click', async () => {
    const pbm = learner('pbm');
    await pbm.l.applyImpressions([
      imp('r1', [
        ['top', 0],
        ['deep', 4],
      ]),
    ]);
    pbm.at(500);
    await pbm.l.closeDue();
    const top = decodeRecord((await pbm.state.get(slatesKeys.item('top')))!);
    const deep = decodeRecord((await pbm.state.get(slatesKeys.item('deep')))!);
    expect(top.m).toBeLessThan(deep.m);
    expect(deep.m).toBeLessThan(0);
    const cas = learner('cascade');
    await cas.l.applyImpressions([
      imp('r1', [
        ['x', 0],
        ['y', 1],
        ['z', 2],
      ]),
    ]);
    await cas.l.applyFeedback([click('r1', 'y')]);
    cas.at(500);
    await cas.l.closeDue();
    expect(decodeRecord((await cas.state.get(slatesKeys.item('x')))!).exposures).toBeCloseTo(1, 6);
    expect(await cas.state.get(slatesKeys.item('z'))).toBeNull();
  });

  it('rejects malformed impressions and estimates examination by EM once every position has clicks', async () => {
    const { l, at } = learner();
    const bad = await l.applyImpressions([
      imp('r0', [
        ['a', 0],
        ['a', 1],
      ]),
      imp('r9', [
        ['a', 0],
        ['b', 0],
      ]),
    ]);
    expect(bad.map((r) => r.code)).toEqual(['malformed_impression', 'malformed_impression']);
    const trueE = [1, 0.6, 0.3];
    let k = 0;
    for (let r = 0; r < 3000; r++) {
      const items: [string, number][] = [0, 1, 2].map((p) => [`i${(r + p) % 6}`, p]);
      await l.applyImpressions([imp(`q${r}`, items)]);
      const clicks = items.filter(([, p]) => (k = (k * 1103515245 + 12345) % 2147483648) / 2147483648 < trueE[p] * 0.5).map(([id]) => click(`q${r}`, id));
      if (clicks.length) await l.applyFeedback(clicks);
    }
    at(10_000);
    await l.closeDue();
    const est = await l.estimatePositionBias();
    expect(est.source).toBe('em');
    est.examination.slice(0, 3).forEach((e, p) => expect(Math.abs(e - trueE[p])).toBeLessThan(0.08));
  });

  it('keeps the PBM counts and posteriors across a restart (a new learner continues from what the store holds) and recovers from a failed write', async () => {
    const { l, state, at } = learner();
    await l.applyImpressions([
      imp('r1', [
        ['a', 0],
        ['b', 1],
      ]),
    ]);
    await l.applyFeedback([click('r1', 'a')]);
    at(500);
    await l.closeDue();
    let now = 500;
    const again = new FeedbackLearner(state, new PosteriorStore(state), { windowMs: 100, retentionMs: 1000, examination: 'pbm', positions: 5 }, () => now);
    await again.restore();
    await again.applyImpressions([imp('r2', [['a', 0]], 600)]);
    // a failing MULTI/EXEC: the learner forgets its mirrors, the batch is redelivered and applies once
    const tx = state.transaction.bind(state);
    let fail = true;
    state.transaction = () => {
      const t = tx();
      const exec = t.exec.bind(t);
      t.exec = () => (fail ? ((fail = false), Promise.reject(new Error('connection lost'))) : exec());
      return t;
    };
    now = 1000;
    await expect(again.closeDue()).rejects.toThrow('connection lost');
    await again.closeDue();
    const imps = await state.hgetall(slatesKeys.pbmImpressions());
    const clicks = await state.hgetall(slatesKeys.pbmClicks());
    expect(Object.fromEntries(Object.entries(imps).map(([f, v]) => [f, v.toString()]))).toEqual({ '0|a': '2', '1|b': '1' });
    expect(Object.fromEntries(Object.entries(clicks).map(([f, v]) => [f, v.toString()]))).toEqual({ '0|a': '1' });
    const a = decodeRecord((await state.get(slatesKeys.item('a')))!);
    expect(a.clicks).toBe(1);
    expect(a.exposures).toBeCloseTo(2, 6);
  });
});
