import assert from 'node:assert/strict';
import { EventPublisher } from '@recsys/messaging';
import { BucketTables, hasherFor, seedUserTables } from '@recsys/sdim';
import { realInfra, uniqueName } from '../support/infra';
import { eventually, getJson, postJson, startTestSuite } from '../support/suite';
import { catalogEvents, expectedScores, hammer, makeItems, promote, ReferenceScorer, registerModel, syntheticVersions, waitServing } from './ranking.flow';

/**
 * Several ranking replicas on real Kafka, Redis and PostgreSQL: one registry, each replica with its
 * own consumer groups. A change made through one replica reaches the others through
 * models.lifecycle (the periodic reconcile is set far beyond the test's duration, so only the
 * events can do it); a replica started later loads the live model from the registry at boot;
 * a hot swap while clients hammer both replicas fails no request.
 */
describe('ranking replicas on real Kafka, Redis and PostgreSQL (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('rk')}.`;
  const model = uniqueName('ctr').replace(/[^A-Za-z0-9._-]/g, '');
  const items = makeItems(200);
  const { v1, v2 } = syntheticVersions();
  const refs: Record<string, ReferenceScorer> = {};
  const replicas: Awaited<ReturnType<typeof startTestSuite>>[] = [];
  const start = async (id: string) => {
    const s = await startTestSuite({
      APPS: 'ranking',
      KAFKA_BROKERS: real.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      REDIS_URL: real.redisUrl,
      DATABASE_URL: real.databaseUrl,
      STATE_PREFIX: prefix,
      RANKING_MODEL_NAME: model,
      RANKING_REPLICA_ID: id,
      RANKING_RECONCILE_INTERVAL_MS: '3600000',
    });
    replicas.push(s);
    return s.url('ranking');
  };

  beforeAll(async () => {
    for (const [v, m] of Object.entries({ v1, v2 })) refs[v] = await ReferenceScorer.create(m.bytes, m.spec, items);
  });
  afterAll(async () => {
    for (const r of Object.values(refs)) await r.release();
    for (const s of replicas) await s.close();
  });

  it('a promotion through one replica reaches the others; a late replica boots with the live model; hot swap across replicas fails nothing', async () => {
    const a = await start('a');
    const b = await start('b');
    await new EventPublisher(replicas[0].infra.bus).publish('catalog.items', catalogEvents(items, prefix) as never);
    for (const url of [a, b]) await eventually(async () => (await getJson(`${url}/v1/status`)).body.catalog.items === items.length, 30_000, 50);
    const hasher = hasherFor(v1.spec.sdim);
    for (let u = 0; u < 3; u++) {
      const t = new BucketTables(hasher);
      for (let j = 0; j < 30; j++) t.add(items[(u * 17 + j * 5) % items.length].embedding);
      await seedUserTables(replicas[0].infra.state, `u${u}`, t);
    }

    for (const [v, m] of Object.entries({ v1, v2 })) assert.equal((await registerModel(a, model, v, m.bytes, m.spec)).status, 201);
    const noModel = await postJson(`${b}/v1/rank`, { userId: 'u0', domain: 'drama', candidates: ['it-1'] });
    assert.equal(noModel.status, 503);
    await promote(a, model, 'v1', 'live');
    await waitServing(b, 'v1', null, 30_000);

    const c = await start('c');
    const boot = (await getJson(`${c}/v1/status`)).body;
    assert.equal(boot.models.live?.version, 'v1', 'loaded from the registry at boot');

    // Shadow on every replica.
    await promote(a, model, 'v2', 'shadow');
    for (const url of [b, c]) await waitServing(url, 'v1', 'v2', 30_000);
    const sh = await fetch(`${b}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u1', domain: 'thrill', candidates: ['it-3', 'it-4'] }) });
    assert.equal(sh.headers.get('x-shadow-version'), 'v2');
    await postJson(`${a}/v1/models/${model}/versions/v2/retire`, {});
    for (const url of [b, c]) await waitServing(url, 'v1', null, 30_000);

    await eventually(async () => (await getJson(`${c}/v1/status`)).body.catalog.items === items.length, 30_000, 50);
    const queries = Array.from({ length: 4 }, (_, q) => ({
      userId: q < 3 ? `u${q}` : 'stranger',
      domain: ['family', 'thrill', 'drama'][q % 3],
      candidates: Array.from({ length: 150 }, (_, i) => items[(q * 31 + i * 3) % items.length].itemId),
    }));
    const load = hammer([a, b, c], queries, await expectedScores(refs, replicas[0].infra.state, queries), 6);
    const pause = () => new Promise((r) => setTimeout(r, 200));
    await pause();
    for (let cycle = 0; cycle < 2; cycle++) {
      await promote(b, model, 'v2', 'live');
      for (const url of [a, b, c]) await waitServing(url, 'v2', undefined, 30_000);
      await pause();
      assert.equal((await postJson(`${c}/v1/models/${model}/rollback`, {})).status, 200);
      for (const url of [a, b, c]) await waitServing(url, 'v1', undefined, 30_000);
      await pause();
    }
    const r = await load.stop();
    console.log(`replicas hot swap: ${r.total} requests, ${JSON.stringify(r.seen)}, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
    assert.deepEqual(r.failures.slice(0, 5), []);
    assert.ok(r.seen.v1 > 0 && r.seen.v2 > 0, JSON.stringify(r.seen));
  });
});
