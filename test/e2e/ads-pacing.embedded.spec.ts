import assert from 'node:assert/strict';
import { encodeFloat32, stateKeys } from '@recsys/contracts';
import { eventually, postJson } from '../support/suite';
import { admin, type AdsEnv, startAdsEnv, vec } from './ads.flow';

/** A zone whose local hour is `hour` now (Etc/GMT-N is UTC+N), so the target curve is at a known point of the day. */
function zoneAtLocalHour(hour: number): string {
  let off = (hour - new Date().getUTCHours() + 24) % 24;
  if (off > 14) off -= 24;
  return off === 0 ? 'UTC' : `Etc/GMT${off > 0 ? '-' : '+'}${Math.abs(off)}`;
}

/**
 * Pacing on: a campaign whose traffic could buy its whole budget at once spends no more than the
 * spend gate allows until the next control step: the target curve (uniform before any traffic is
 * learned) at the campaign's local time plus one billing event at the bid.
 */
describe('ads pacing: the spend gate (embedded adapters)', () => {
  let env: AdsEnv;
  beforeAll(async () => {
    env = await startAdsEnv({}, { ADS_RESERVE_ECPM: '1', ADS_PACING: 'on', ADS_PACING_GATE_SLACK: '0', ADS_PACING_INTERVAL_MS: '200' });
    await env.infra.state.set(stateKeys.userEmbedding('p1'), encodeFloat32(vec(1)));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('stops a campaign at the target curve (+ one billing event at its bid) well before its daily budget', async () => {
    // 06:xx local: the uniform target is ~26% of the day; the budget buys 40 wins at the reserve (1 per mille)
    const timeZone = zoneAtLocalHour(6);
    const c = await admin(`${env.url}/v1/ads/campaigns`, 'POST', { id: 'paced', name: 'paced', bidType: 'cpm', bid: 5, dailyBudget: 0.04, timeZone, targeting: { surfaces: ['paced'] } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal((await admin(`${env.url}/v1/ads/campaigns/paced/creatives/paced-ad`, 'PUT', { title: 'p', embedding: vec(2) })).status, 201);
    await eventually(async () => (await postJson(`${env.retrievalUrl}/v1/candidates`, { namespace: 'ads', k: 5, vector: vec(1) })).body.length === 1);
    await eventually(async () => (await admin(`${env.url}/v1/ads/campaigns/paced/delivery`, 'GET')).body.pacingRate !== null);
    let wins = 0;
    for (let i = 0; i < 40; i++) wins += (await postJson(`${env.url}/v1/ads/fill`, { userId: 'p1', surface: 'paced', positions: [0] })).body.ads.length;
    const d = (await admin(`${env.url}/v1/ads/campaigns/paced/delivery`, 'GET')).body;
    const local = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(new Date());
    const F = (Number(local.find((p) => p.type === 'hour')!.value) + (Number(local.find((p) => p.type === 'minute')!.value) + 1) / 60) / 24;
    // slack: one billing event at the bid (5 per mille = 0.005 an impression); the wins pay the reserve (0.001)
    const allowance = 0.04 * F + 0.005;
    assert.ok(wins >= 1, 'it serves while under its curve');
    assert.ok(wins < 40, `the gate held it: ${wins} wins`);
    // bidding stops once spend reaches the allowance: the win that crosses it is the last (one price, 0.001, over at most)
    assert.ok(d.spent + d.reserved <= allowance + 0.001 + 1e-9, `spent + reserved ${d.spent + d.reserved} within the allowance ${allowance} + one win`);
    assert.ok(d.spent + d.reserved >= 0.04 * (F - 1 / 1440), `it spent up to its curve: ${d.spent + d.reserved}`);
  });
});
