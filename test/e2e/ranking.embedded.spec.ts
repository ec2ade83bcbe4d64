import assert from 'node:assert/strict';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { EventPublisher } from '@recsys/messaging';
import { exampleFeatureSpec } from '@recsys/ranking';
import { eventually, getJson, postJson, startTestSuite } from '../support/suite';
import { makeItems, promote, ReferenceScorer, registerModel, seedCatalogAndHistory, syntheticVersions, waitServing } from './ranking.flow';

describe('ranking service (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;
  const items = makeItems(60);
  const { v1, v2 } = syntheticVersions();
  const refs: ReferenceScorer[] = [];

  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'behavior,ranking', BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '2000' });
    url = suite.url('ranking');
    const publisher = new EventPublisher(suite.infra.bus);
    await seedCatalogAndHistory({
      produce: (topic, events) => publisher.publish(topic as never, events as never),
      behaviorUrl: suite.url('behavior'),
      rankingUrl: url,
      items,
      users: { alice: ['it-1', 'it-2', 'it-3', 'it-10', 'it-11', 'it-2'], bob: ['it-40', 'it-41'] },
      tag: 'emb',
    });
  });
  afterAll(async () => {
    for (const r of refs) await r.release();
    await suite?.close();
  });

  it('answers 503 no_live_model before any model is live', async () => {
    const r = await postJson(`${url}/v1/rank`, { userId: 'alice', domain: 'thrill', candidates: ['it-1'] });
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'no_live_model');
    assert.match(r.type ?? '', /problem\+json/);
  });

  it('refuses artefacts that cannot be served, with a 422 problem listing why', async () => {
    const bad = await registerModel(url, 'ctr', 'bad1', Buffer.from('not a model at all'), v1.spec);
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'model_invalid');

    const invalid = await registerModel(url, 'ctr', 'bad2', v1.bytes, { ...v1.spec, hash: { fn: 'md5' }, outputs: ['pctr'] });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.code, 'feature_spec_invalid');
    assert.ok(invalid.body.problems.length >= 2, JSON.stringify(invalid.body.problems));

    const otherSdim = await registerModel(url, 'ctr', 'bad3', v1.bytes, { ...v1.spec, sdim: { ...v1.spec.sdim, seed: 7 } });
    assert.equal(otherSdim.status, 422);
    assert.equal(otherSdim.body.code, 'feature_spec_mismatch');
    assert.match(otherSdim.body.detail, /sdim\.seed is 7 in the spec but 20240501/);

    const fewerGenres = exampleFeatureSpec({ itemDense: { genres: ['Action', 'Drama'], yearOffset: 1900, yearScale: 100, yearDefault: 0.9 } });
    const mismatch = await registerModel(url, 'ctr', 'bad4', v1.bytes, fewerGenres);
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.code, 'model_spec_mismatch');
    assert.match(mismatch.body.detail, /item_dense' has 20 columns in the model, 3 expected/);

    const badName = await registerModel(url, 'ctr', 'v 1', v1.bytes, v1.spec);
    assert.equal(badName.status, 422);
    const notFound = await getJson(`${url}/v1/models/ctr`);
    assert.equal(notFound.status, 404, 'nothing was stored');
  });

  it('registers, promotes live and scores: sorted, equal to the model run on the same features, defaults for unknowns', async () => {
    const reg = await registerModel(url, 'ctr', 'v1', v1.bytes, v1.spec, { auc: 0.71 });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.body.version.status, 'staged');
    assert.equal((await registerModel(url, 'ctr', 'v1', v1.bytes, v1.spec)).status, 200, 'same artefact again: idempotent');
    const clash = await registerModel(url, 'ctr', 'v1', v2.bytes, v2.spec);
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'version_exists');

    const p = await promote(url, 'ctr', 'v1', 'live');
    assert.equal(p.serving.live.version, 'v1', 'the replica that handled the call serves it when it answers');

    const ref = await ReferenceScorer.create(v1.bytes, v1.spec, items);
    refs.push(ref);
    const candidates = ['it-5', 'it-1', 'unknown-item', 'it-33', 'it-2', 'it-1', 'it-59'];
    for (const [userId, domain] of [
      ['alice', 'thrill'],
      ['bob', 'family'],
      ['nobody-knows-me', 'drama'],
    ]) {
      const r = await postJson(`${url}/v1/rank`, { userId, domain, candidates, context: { surface: 'home' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.length, 6, 'duplicates are scored once');
      const scores = r.body.map((x: { pctr: number }) => x.pctr);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
        'best first',
      );
      const want = await ref.score(suite.infra.state, userId, domain, [...new Set(candidates)]);
      for (const x of r.body) assert.equal(x.pctr, want.get(x.itemId), `${userId} ${x.itemId}`);
      assert.ok(r.body.every((x: { pctr: number; routing?: unknown }) => x.pctr > 0 && x.pctr < 1 && x.routing === undefined));
    }
    // The user's history changes the features: alice and a stranger get different scores for the same item.
    const a = await postJson(`${url}/v1/rank`, { userId: 'alice', domain: 'thrill', candidates: ['it-2'] });
    const s = await postJson(`${url}/v1/rank`, { userId: 'stranger', domain: 'thrill', candidates: ['it-2'] });
    assert.notEqual(a.body[0].pctr, s.body[0].pctr);
  });

  it('explain=true returns the routing coefficients; headers name the model and time the stages', async () => {
    const r = await fetch(`${url}/v1/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', domain: 'drama', candidates: ['it-7', 'it-8'], explain: true }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-model-version'), 'v1');
    assert.equal(r.headers.get('x-model-name'), 'ctr');
    assert.match(r.headers.get('server-timing') ?? '', /state;dur=[\d.]+, features;dur=[\d.]+, model;dur=[\d.]+/);
    const body = (await r.json()) as { itemId: string; pctr: number; routing: number[] }[];
    for (const x of body) {
      assert.equal(x.routing.length, 4);
      assert.ok(Math.abs(x.routing.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5, 'softmax coefficients sum to 1');
    }
    const q = await postJson(`${url}/v1/rank?explain=true`, { userId: 'alice', domain: 'drama', candidates: ['it-7'] });
    assert.equal(q.body[0].routing.length, 4);
  });

  it('rejects an unknown domain and malformed requests with problems; an empty candidate list is fine', async () => {
    const d = await postJson(`${url}/v1/rank`, { userId: 'alice', domain: 'sports', candidates: ['it-1'] });
    assert.equal(d.status, 422);
    assert.equal(d.body.code, 'unknown_domain');
    assert.deepEqual(d.body.domains, ['family', 'thrill', 'drama']);
    const m = await postJson(`${url}/v1/rank`, { userId: '', domain: 'drama', candidates: 'it-1' });
    assert.equal(m.status, 422);
    assert.equal(m.body.code, 'validation_failed');
    const e = await postJson(`${url}/v1/rank`, { userId: 'alice', domain: 'drama', candidates: [] });
    assert.equal(e.status, 200);
    assert.deepEqual(e.body, []);
    const many = await postJson(`${url}/v1/rank`, { userId: 'a', domain: 'drama', candidates: Array.from({ length: 2001 }, (_, i) => `x${i}`) });
    assert.equal(many.status, 422);
    assert.equal(many.body.code, 'too_many_candidates');
  });

  it('shadow: scores with both, serves live, logs the difference; promote, roll back', async () => {
    assert.equal((await registerModel(url, 'ctr', 'v2', v2.bytes, v2.spec)).status, 201);
    await promote(url, 'ctr', 'v2', 'shadow');
    await waitServing(url, 'v1', 'v2');
    const ref1 = refs[0];
    const r = await fetch(`${url}/v1/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', domain: 'thrill', candidates: ['it-1', 'it-20', 'it-30'] }),
    });
    assert.equal(r.headers.get('x-model-version'), 'v1');
    assert.equal(r.headers.get('x-shadow-version'), 'v2');
    const body = (await r.json()) as { itemId: string; pctr: number; routing: number[] }[];
    const want = await ref1.score(suite.infra.state, 'alice', 'thrill', ['it-1', 'it-20', 'it-30']);
    for (const x of body) assert.equal(x.pctr, want.get(x.itemId), 'the live model answers');
    const metrics = await eventually(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return /ranking_shadow_scored_total\{[^}]*\} [1-9]/.test(t) ? t : undefined;
    });
    const count = /ranking_shadow_abs_diff_count\{[^}]*\} (\d+)/.exec(metrics);
    assert.ok(count && Number(count[1]) >= 3, 'one |live - shadow| observation per candidate');
    assert.match(metrics, /ranking_model_info\{[^}]*slot="shadow"[^}]*version="v2"/);

    await promote(url, 'ctr', 'v2', 'live');
    await waitServing(url, 'v2', null);
    const after2 = await fetch(`${url}/v1/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', domain: 'thrill', candidates: ['it-1'] }),
    });
    assert.equal(after2.headers.get('x-model-version'), 'v2');
    assert.equal(after2.headers.get('x-shadow-version'), null);

    const rb = await postJson(`${url}/v1/models/ctr/rollback`, {});
    assert.equal(rb.status, 200, JSON.stringify(rb.body));
    assert.equal(rb.body.from, 'v2');
    assert.equal(rb.body.version.version, 'v1');
    assert.equal(rb.body.serving.live.version, 'v1');
    const again = await postJson(`${url}/v1/models/ctr/rollback`, {});
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'no_previous_version');
    const retireLive = await postJson(`${url}/v1/models/ctr/versions/v1/retire`, {});
    assert.equal(retireLive.status, 409);

    const d = await getJson(`${url}/v1/models/ctr`);
    assert.equal(d.body.live, 'v1');
    assert.deepEqual(d.body.versions.map((v: { version: string; status: string }) => [v.version, v.status]).sort(), [
      ['v1', 'live'],
      ['v2', 'retired'],
    ]);
    assert.equal(d.body.versions.find((v: { version: string }) => v.version === 'v1').metrics.auc, 0.71);
    assert.deepEqual(
      d.body.events.slice(0, 2).map((e: { action: string; version: string }) => [e.action, e.version]),
      [
        ['rolled_back', 'v1'],
        ['retired', 'v2'],
      ],
    );
    assert.equal(d.body.serving.live.version, 'v1');
    const list = await getJson(`${url}/v1/models`);
    assert.deepEqual(list.body, [{ name: 'ctr', versions: 2, live: 'v1', shadow: null }]);
  });

  it('a promoted version that this deployment cannot load keeps the old one serving and shows in health', async () => {
    // The API refuses such a version at registration; a row written by another deployment (or by
    // hand) into the shared registry is the way it can still be promoted.
    const other = syntheticCtrModel({ seed: 5, spec: exampleFeatureSpec() });
    await suite.infra.sql.query(`INSERT INTO model_versions (name, version, checksum, artifact, artifact_bytes, feature_spec) VALUES ('ctr', 'foreign', $1, $2, $3, $4::jsonb)`, [
      'f'.repeat(64),
      other.bytes,
      other.bytes.length,
      JSON.stringify({ ...other.spec, sdim: { ...other.spec.sdim, m: 24 } }),
    ]);
    const p = await postJson(`${url}/v1/models/ctr/versions/foreign/promote`, { to: 'live' });
    assert.equal(p.status, 200);
    assert.equal(p.body.serving.live.version, 'v1', 'still serving the previous model');
    assert.equal(p.body.serving.problems[0].version, 'foreign');
    const h = await getJson(`${url}/health`);
    assert.equal(h.status, 503);
    assert.match(h.body.dependencies.models.error, /foreign/);
    const r = await postJson(`${url}/v1/rank`, { userId: 'alice', domain: 'thrill', candidates: ['it-1'] });
    assert.equal(r.status, 200);
    await postJson(`${url}/v1/models/ctr/rollback`, {});
    await waitServing(url, 'v1');
    assert.equal((await getJson(`${url}/health`)).status, 200);
  });
});
