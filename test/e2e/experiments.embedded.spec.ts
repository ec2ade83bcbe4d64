import assert from 'node:assert/strict';
import { EventPublisher } from '@recsys/messaging';
import { assignOne, type ExperimentDef } from '@recsys/experiments';
import { eventually, getJson, postJson, startTestSuite } from '../support/suite';
import { ADMIN, adminPost, auth, runTraffic, type Produce } from './experiments.flow';

describe('experiments service (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;
  let produce: Produce;

  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'experiments', ADMIN_TOKEN: ADMIN });
    url = suite.url('experiments');
    const publisher = new EventPublisher(suite.infra.bus);
    produce = ((topic: string, events: unknown[]) => publisher.publish(topic as never, events as never)) as Produce;
  });
  afterAll(async () => {
    await suite?.close();
  });

  it('guards writes with the admin token and answers problem+json', async () => {
    const body = {
      key: 'x1',
      name: 'x',
      variants: [
        { key: 'a', weight: 1 },
        { key: 'b', weight: 1 },
      ],
    };
    const open = await postJson(`${url}/v1/experiments`, body);
    assert.equal(open.status, 401);
    assert.equal(open.body.code, 'unauthorized');
    const bad = await adminPost(`${url}/v1/experiments`, {
      ...body,
      key: 'Bad Key',
      variants: [
        { key: 'a', weight: 1 },
        { key: 'a', weight: 1 },
      ],
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'validation_failed');
    assert.ok(bad.body.errors.some((e: { path: string }) => e.path === 'key'));
    // A rule JSON Schema cannot state is the service's, with its own code.
    const dup = await adminPost(`${url}/v1/experiments`, {
      ...body,
      variants: [
        { key: 'a', weight: 1 },
        { key: 'a', weight: 1 },
      ],
    });
    assert.equal(dup.status, 422);
    assert.equal(dup.body.code, 'duplicate_variant');
    const share = await adminPost(`${url}/v1/experiments`, { ...body, key: 'x2', layerShare: 0.5 });
    assert.equal(share.status, 422);
    assert.equal(share.body.code, 'layer_share_without_layer');
    const missing = await getJson(`${url}/v1/experiments/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'experiment_not_found');
    assert.match(missing.type ?? '', /problem\+json/);
  });

  it('runs the lifecycle draft -> running -> stopped -> shipped; shipping makes the overrides the default', async () => {
    const c = await adminPost(`${url}/v1/experiments`, {
      key: 'rank-v2',
      name: 'Ranking v2',
      variants: [
        { key: 'control', weight: 1, overrides: { rankingModelVersion: 'v1' } },
        { key: 'treatment', weight: 1, overrides: { rankingModelVersion: 'v2' } },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.status, 'draft');
    assert.equal(
      (
        await adminPost(`${url}/v1/experiments`, {
          key: 'rank-v2',
          name: 'again',
          variants: [
            { key: 'a', weight: 1 },
            { key: 'b', weight: 1 },
          ],
        })
      ).body.code,
      'experiment_exists',
    );
    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2/stop`, {})).body.code, 'invalid_transition');
    const before = await postJson(`${url}/v1/assignments`, { userId: 'lc-1' });
    assert.equal(before.body.assignments.length, 0, 'a draft assigns nobody');

    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2/start`, {})).body.status, 'running');
    const a = await postJson(`${url}/v1/assignments`, { userId: 'lc-1' });
    assert.equal(a.body.assignments.length, 1);
    assert.equal(a.body.config.rankingModelVersion, a.body.assignments[0].variant === 'control' ? 'v1' : 'v2');
    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2`, { coverage: 0.5 }, 'PATCH')).body.code, 'coverage_decrease');
    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2/stop`, {})).body.status, 'stopped');
    assert.equal((await postJson(`${url}/v1/assignments`, { userId: 'lc-1' })).body.assignments.length, 0);
    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2/ship`, { variant: 'nope' })).body.code, 'unknown_variant');
    assert.equal((await adminPost(`${url}/v1/experiments/rank-v2/ship`, { variant: 'treatment' })).body.status, 'shipped');
    const after = await postJson(`${url}/v1/assignments`, { userId: 'anyone' });
    assert.deepEqual(after.body.config, { rankingModelVersion: 'v2' });
    assert.deepEqual((await getJson(`${url}/v1/defaults`)).body.shipped, [{ experiment: 'rank-v2', variant: 'treatment' }]);
  });

  it('assigns like the library (GrowthBook hashing), keeps layers exclusive, and refuses a full layer', async () => {
    for (const [key, share] of [
      ['slate-a', 0.5],
      ['slate-b', 0.5],
    ] as const) {
      const r = await adminPost(`${url}/v1/experiments`, {
        key,
        name: key,
        layer: 'slates',
        layerShare: share,
        start: true,
        targeting: { surfaces: ['home'] },
        variants: [
          { key: 'control', weight: 1 },
          { key: 'treatment', weight: 1, overrides: { slatePolicy: key } },
        ],
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.status, 'running');
    }
    const full = await adminPost(`${url}/v1/experiments`, {
      key: 'slate-c',
      name: 'c',
      layer: 'slates',
      layerShare: 0.2,
      start: true,
      variants: [
        { key: 'a', weight: 1 },
        { key: 'b', weight: 1 },
      ],
    });
    assert.equal(full.status, 409);
    assert.equal(full.body.code, 'layer_full');
    const defs = await Promise.all(['slate-a', 'slate-b'].map(async (k) => (await getJson(`${url}/v1/experiments/${k}`)).body));
    assert.deepEqual(
      defs.map((d) => d.layer.range),
      [
        [0, 0.5],
        [0.5, 1],
      ],
    );
    const lib: ExperimentDef[] = defs.map((d) => ({ key: d.key, seed: d.seed, variants: d.variants, coverage: d.coverage, targeting: d.targeting, layer: { key: 'slates', range: d.layer.range } }));
    for (let i = 0; i < 300; i++) {
      const userId = `lay-${i}`;
      const r = await postJson(`${url}/v1/assignments`, { userId, attributes: { surface: 'home' } });
      const slates = r.body.assignments.filter((x: { experiment: string }) => x.experiment.startsWith('slate-'));
      assert.equal(slates.length, 1, `user ${userId} in exactly one experiment of the layer`);
      const e = lib.find((d) => d.key === slates[0].experiment)!;
      assert.equal(e.variants[assignOne(e, userId, { surface: 'home' })].key, slates[0].variant);
      const elsewhere = await postJson(`${url}/v1/assignments`, { userId, attributes: { surface: 'search' } });
      assert.equal(elsewhere.body.assignments.length, 0, 'targeting by surface');
    }
    for (const k of ['slate-a', 'slate-b']) await adminPost(`${url}/v1/experiments/${k}/stop`, {});
  });

  it('counts exposures and metrics from impressions and feedback: users, CTR, clicks; idempotent on replay; OPE and SRM', async () => {
    const c = await adminPost(`${url}/v1/experiments`, {
      key: 'adload-more',
      name: 'More ads',
      start: true,
      primaryMetric: 'clicks_per_user',
      variants: [
        { key: 'control', weight: 1, overrides: { adLoadPolicy: { '1': 0.5, '2': 0.5 } } },
        { key: 'treatment', weight: 1, overrides: { adLoadPolicy: 2 } },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const exp = await runTraffic({ experimentsUrl: url, experiment: 'adload-more', users: 400, lift: 0.3, produce });
    let last: unknown;
    const res = await eventually(async () => {
      const r = await getJson(`${url}/v1/experiments/adload-more/results`);
      last = { variants: r.body.variants, clicks: r.body.metrics.filter((m: { metric: string }) => m.metric === 'clicks_per_user'), expected: { users: exp.users, clicks: exp.clicks } };
      const clicks = r.body.metrics.filter((m: { metric: string }) => m.metric === 'clicks_per_user');
      const done =
        r.body.variants.every((v: { key: string; users: number }) => v.users === exp.users[v.key]) &&
        clicks.every((m: { variant: string; mean: number }) => Math.abs(m.mean * exp.users[m.variant] - exp.clicks[m.variant]) < 1e-6);
      return done && r.body;
    }, 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
    });
    for (const v of ['control', 'treatment']) {
      const ctr = res.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === v);
      assert.ok(Math.abs(ctr.mean - exp.clicks[v] / exp.items[v]) < 1e-12, `${v} CTR`);
      const adLoad = res.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ad_load' && m.variant === v);
      assert.ok(Math.abs(adLoad.mean - 0.1) < 1e-12);
      const sess = res.metrics.find((m: { metric: string; variant: string }) => m.metric === 'session_length' && m.variant === v);
      assert.ok(Math.abs(sess.mean - 1) < 1e-12, 'one fetch per active day');
    }
    const t = res.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === 'treatment');
    assert.ok(t.lift > 0.1 && t.ci[0] < t.lift && t.lift < t.ci[1], JSON.stringify(t));
    assert.ok(t.chanceToWin > 0.95);
    assert.equal(res.srm.alarm, false);
    assert.ok(res.daily.points.length >= 3 && res.daily.points.every((p: { ci: number[]; lift: number }) => p.ci[0] <= p.lift && p.lift <= p.ci[1]));
    const fixed = (await getJson(`${url}/v1/experiments/adload-more/results?sequential=false&cuped=false&correction=none`)).body;
    const tf = fixed.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === 'treatment');
    assert.ok(tf.ci[1] - tf.ci[0] < t.ci[1] - t.ci[0], 'the confidence sequence is wider than the fixed-horizon interval');

    // Replaying every event changes nothing.
    await produce('feed.impressions', exp.impressions);
    await produce('feed.feedback', exp.feedback);
    const marker = `marker-${Date.now()}`;
    await produce('feed.impressions', [{ eventId: marker, key: 'marker', timestamp: Date.now(), schemaVersion: 1, requestId: marker, userId: 'marker', surface: 'home', items: [], variants: {} }]);
    await eventually(async () => (await suite.infra.sql.query('SELECT 1 FROM processed_events WHERE event_id = $1', [marker])).rowCount > 0, 20_000);
    const again = (await getJson(`${url}/v1/experiments/adload-more/results`)).body;
    assert.deepEqual(again.variants, res.variants);
    assert.deepEqual(
      again.metrics.map((m: { mean: number }) => m.mean),
      res.metrics.map((m: { mean: number }) => m.mean),
    );

    const ope = (await getJson(`${url}/v1/experiments/adload-more/ope`)).body;
    assert.equal(ope.available, true, JSON.stringify(ope));
    assert.ok(ope.logged > 0);
    assert.deepEqual([...new Set(ope.estimates.map((e: { variant: string }) => e.variant))], ['control', 'treatment']);
    // The control's policy equals the logging policy (uniform over 1 and 2 slots): IPS recovers the logged mean exactly.
    const ctrlIps = ope.estimates.find((e: { variant: string; estimator: string }) => e.variant === 'control' && e.estimator === 'ips');
    assert.ok(Math.abs(ctrlIps.value - ope.loggedValue) < 1e-9);
  });

  it('raises the SRM alarm when exposures do not follow the weights', async () => {
    await adminPost(`${url}/v1/experiments`, {
      key: 'srm-skew',
      name: 'skew',
      start: true,
      variants: [
        { key: 'control', weight: 1 },
        { key: 'treatment', weight: 1 },
      ],
    });
    // Impressions claim 'control' for 3 users in 4: not what the 50/50 split would give.
    const events = Array.from({ length: 800 }, (_, i) => ({
      eventId: `srm-${i}`,
      key: `srm-u${i}`,
      timestamp: Date.now(),
      schemaVersion: 1 as const,
      requestId: `srm-r${i}`,
      userId: `srm-u${i}`,
      surface: 'home',
      items: [{ itemId: 'i', position: 0, isAd: false }],
      variants: { 'srm-skew': i % 4 === 0 ? 'treatment' : 'control' },
    }));
    await produce('feed.impressions', events);
    const r = await eventually(async () => {
      const b = (await getJson(`${url}/v1/experiments/srm-skew/results`)).body;
      return b.variants.reduce((s: number, v: { users: number }) => s + v.users, 0) === 800 && b;
    }, 20_000);
    assert.equal(r.srm.alarm, true);
    assert.ok(r.srm.pValue < 1e-20);
  });

  it('serves the dashboard page and its assets from node_modules', async () => {
    const page = await fetch(`${url}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Experiments/);
    for (const asset of ['pico.min.css', 'echarts.min.js']) assert.equal((await fetch(`${url}/dashboard/assets/${asset}`)).status, 200);
    assert.equal((await fetch(`${url}/dashboard/assets/evil.js`)).status, 404);
    void auth;
  });

  it('documents every route in OpenAPI, with response schemas', async () => {
    const doc = (await getJson(`${url}/docs-json`)).body;
    for (const path of ['/v1/assignments', '/v1/experiments', '/v1/experiments/{key}', '/v1/experiments/{key}/results', '/v1/experiments/{key}/ope', '/v1/experiments/{key}/ship']) {
      assert.ok(doc.paths[path], `${path} documented`);
    }
    const ok = doc.paths['/v1/experiments/{key}/results'].get.responses['200'];
    assert.ok(JSON.stringify(ok).includes('chanceToWin'), 'results response schema');
    assert.equal(doc.paths['/dashboard'], undefined);
  });
});
