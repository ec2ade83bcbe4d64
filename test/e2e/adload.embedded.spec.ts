// The adload app over HTTP on the embedded adapters (PGlite, in-process log and jobs): decisions
// with their propensities, validation problems, the learning job, the promotion rule, reports and
// admin auth on the write routes.
import assert from 'node:assert/strict';
import { EventPublisher } from '@recsys/messaging';
import { eventually, getJson, postJson, startTestSuite } from '../support/suite';

const TOKEN = 'adload-admin-token-123456';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('adload service (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, {
      ADLOAD_SURFACES: '{"home":{"actions":[0,1,2,3],"pageSize":10,"lambda":0.5},"video":{"actions":[0,2],"pageSize":6,"lambda":1},"feed":{"actions":[0,1,2,3],"pageSize":10,"lambda":0.5}}',
      ADLOAD_EPSILON: '0.2',
      ADLOAD_LEARN_INTERVAL_MS: '0',
      ADLOAD_MIN_ROUNDS: '300',
      ADLOAD_FLUSH_MS: '20',
      ADLOAD_GUARDRAIL_TOLERANCE: '0.05',
    });
    suite = await startTestSuite({ APPS: 'adload', ADMIN_TOKEN: TOKEN });
    url = suite.url('adload');
  });
  afterAll(async () => {
    await suite?.close();
    process.env = saved;
  });

  it('decides an ad-load from the live (initially uniform) policy, with positions and propensity', async () => {
    const r = await postJson(`${url}/v1/adload/decide`, { userId: 'alice', surface: 'home', sessionFetchIndex: 0 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.policyId, 'home-v1');
    assert.ok([0, 1, 2, 3].includes(r.body.adSlots));
    assert.equal(r.body.positions.length, r.body.adSlots);
    assert.ok(Math.abs(r.body.propensity - 0.25) < 1e-12);
    const v = await postJson(`${url}/v1/adload/decide`, { userId: 'alice', surface: 'video', sessionFetchIndex: 3, context: { segment: 'heavy', adTolerance: 0.9, hour: 21 } });
    assert.ok([0, 2].includes(v.body.adSlots));
    assert.ok(Math.abs(v.body.propensity - 0.5) < 1e-12);
  });

  it('answers problems for unknown surfaces and invalid bodies', async () => {
    const unknown = await postJson(`${url}/v1/adload/decide`, { userId: 'a', surface: 'nope', sessionFetchIndex: 0 });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.code, 'unknown_surface');
    assert.match(unknown.type ?? '', /problem\+json/);
    const bad = await postJson(`${url}/v1/adload/decide`, { userId: 'a', surface: 'home', sessionFetchIndex: -1, extra: 1 });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'validation_failed');
    const malformed = await postJson(`${url}/v1/adload/decide`, '{"userId":');
    assert.equal(malformed.status, 400);
  });

  it('protects promote and learn with the admin token', async () => {
    const r = await postJson(`${url}/v1/adload/policies/home-v1/promote`, {});
    assert.equal(r.status, 401);
    const l = await postJson(`${url}/v1/adload/learn`, { surface: 'home' });
    assert.equal(l.status, 401);
  });

  it('learns from logged decisions and joined outcomes, stages the winner, and promotes it only through the rule', async () => {
    // Fetches with fewer ads are followed by another fetch (continuation) and clicked; ads bring little revenue.
    const publisher = new EventPublisher(suite.infra.bus);
    const feedback: any[] = [];
    let continued = 0;
    for (let i = 0; i < 1200; i++) {
      const user = `u${i}`;
      const d = await postJson(`${url}/v1/adload/decide`, { userId: user, surface: 'feed', sessionFetchIndex: 0, requestId: `r${i}`, context: { segment: i % 2 ? 'heavy' : 'casual' } });
      assert.equal(d.status, 200);
      if (d.body.adSlots <= 1) {
        continued++;
        await postJson(`${url}/v1/adload/decide`, { userId: user, surface: 'feed', sessionFetchIndex: 1, requestId: `r${i}-next` });
        feedback.push({ eventId: `fb${i}`, key: user, timestamp: Date.now(), schemaVersion: 1, requestId: `r${i}`, userId: user, itemId: 'it', type: 'click' });
      }
    }
    await publisher.publish('feed.feedback', feedback);
    const last = feedback[feedback.length - 1];
    const learnOnce = async () => {
      const r = await getJson(`${url}/v1/adload/learn`, { method: 'POST', headers: auth, body: JSON.stringify({ surface: 'feed' }) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    // Under the uniform live policy IPS is the mean reward: continuation (1) + 0.2 per click, over
    // every logged fetch. Learn until the feedback consumer has joined every click.
    const expected = (continued * 1.2) / (1200 + continued);
    const res = await eventually(
      async () => {
        const b = await learnOnce();
        const rep = await getJson(`${url}/v1/adload/reports/${b.reportId}`);
        return Math.abs(rep.body.body.live.estimators.ips.satisfaction.value - expected) < 1e-9 ? b : undefined;
      },
      60_000,
      500,
    );
    assert.equal(res.rounds, 1200 + continued);
    assert.ok(last);
    assert.ok(res.staged, JSON.stringify(res));
    const rep = await getJson(`${url}/v1/adload/reports/${res.reportId}`);
    assert.equal(rep.status, 200);
    assert.deepEqual(Object.keys(rep.body.body.live.estimators).sort(), ['clipped_ips', 'dm', 'dr', 'dros', 'ips', 'sndr', 'snips', 'switch_dr']);
    const winner = rep.body.body.candidates.find((c: any) => c.staged);
    assert.ok(winner.guardrailOk);
    const svg = await fetch(`${url}/v1/adload/reports/${res.reportId}?format=svg`);
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /svg/);
    assert.match(await svg.text(), /<svg/);

    const list = await getJson(`${url}/v1/adload/policies`);
    const feed = list.body.policies.filter((p: any) => p.surface === 'feed');
    assert.equal(feed.find((p: any) => p.status === 'staged').policyId, res.staged.policyId);

    const notStaged = await getJson(`${url}/v1/adload/policies/feed-v1/promote`, { method: 'POST', headers: auth, body: '{}' });
    assert.equal(notStaged.status, 409);
    assert.equal(notStaged.body.code, 'policy_not_staged');
    const missing = await getJson(`${url}/v1/adload/policies/nope/promote`, { method: 'POST', headers: auth, body: '{}' });
    assert.equal(missing.status, 404);

    const promoted = await getJson(`${url}/v1/adload/policies/${res.staged.policyId}/promote`, { method: 'POST', headers: auth, body: '{}' });
    if (rep.body.body.promotable) {
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(promoted.body.status, 'live');
      const d = await postJson(`${url}/v1/adload/decide`, { userId: 'z', surface: 'feed', sessionFetchIndex: 0 });
      assert.equal(d.body.policyId, res.staged.policyId);
      const after = await getJson(`${url}/v1/adload/policies`);
      assert.equal(after.body.policies.find((p: any) => p.policyId === 'feed-v1').status, 'retired');
    } else {
      assert.equal(promoted.status, 409);
      assert.equal(promoted.body.code, 'promotion_rule_not_met');
    }
  });

  it('404s an unknown report', async () => {
    const r = await getJson(`${url}/v1/adload/reports/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'report_not_found');
  });
});
