import { monitorEventLoopDelay } from 'node:perf_hooks';
import assert from 'node:assert/strict';
import { EventPublisher } from '@recsys/messaging';
import { BucketTables, hasherFor, seedUserTables } from '@recsys/sdim';
import { postJson, startTestSuite } from '../support/suite';
import { catalogEvents, expectedScores, hammer, makeItems, promote, ReferenceScorer, registerModel, syntheticVersions, waitServing } from './ranking.flow';
import { eventually, getJson } from '../support/suite';

/**
 * Hot swap under load: concurrent clients keep ranking while the live model is promoted and
 * rolled back several times. No request may fail, and every response must come entirely from
 * one model: its scores equal, item by item, what the model named in x-model-version gives.
 */
describe('ranking hot swap under concurrent requests (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;
  const items = makeItems(300);
  const { v1, v2 } = syntheticVersions();
  const refs: Record<string, ReferenceScorer> = {};

  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'ranking' });
    url = suite.url('ranking');
    await new EventPublisher(suite.infra.bus).publish('catalog.items', catalogEvents(items, 'hs') as never);
    // Tables for a few users, written the way the behavior service writes them.
    const hasher = hasherFor(v1.spec.sdim);
    for (let u = 0; u < 4; u++) {
      const t = new BucketTables(hasher);
      for (let j = 0; j < 20; j++) t.add(items[(u * 37 + j * 11) % items.length].embedding);
      await seedUserTables(suite.infra.state, `user-${u}`, t);
    }
    await eventually(async () => (await getJson(`${url}/v1/status`)).body.catalog.items === items.length, 20_000);
    for (const [v, m] of Object.entries({ v1, v2 })) {
      assert.equal((await registerModel(url, 'ctr', v, m.bytes, m.spec)).status, 201);
      refs[v] = await ReferenceScorer.create(m.bytes, m.spec, items);
    }
    await promote(url, 'ctr', 'v1', 'live');
  });
  afterAll(async () => {
    for (const r of Object.values(refs)) await r.release();
    await suite?.close();
  });

  it('zero failed requests, every response from one consistent model, both models served', async () => {
    const domains = ['family', 'thrill', 'drama'];
    const requests = Array.from({ length: 6 }, (_, r) => ({
      userId: r < 4 ? `user-${r}` : `newcomer-${r}`,
      domain: domains[r % 3],
      candidates: Array.from({ length: 200 }, (_, i) => (i % 50 === 49 ? `unknown-${r}-${i}` : items[(r * 53 + i * 7) % items.length].itemId)),
    }));
    const expected = await expectedScores(refs, suite.infra.state, requests);
    const load = hammer([url], requests, expected, 8);
    // How long the request loop stalls at worst while models load and swap (informational).
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const pause = () => new Promise((r) => setTimeout(r, 150));
    await pause();
    for (let cycle = 0; cycle < 3; cycle++) {
      await promote(url, 'ctr', 'v2', 'live');
      await waitServing(url, 'v2');
      await pause();
      const rb = await postJson(`${url}/v1/models/ctr/rollback`, {});
      assert.equal(rb.status, 200, JSON.stringify(rb.body));
      await waitServing(url, 'v1');
      await pause();
    }
    const { total, seen, failures, p50, p99, max } = await load.stop();
    delay.disable();
    const status = (await getJson(`${url}/v1/status`)).body;
    console.log(
      `hot swap: ${total} requests, by version ${JSON.stringify(seen)}, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; live load ${status.models.live.loadMs} ms; event loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
    );
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(seen.v1 > 0 && seen.v2 > 0, JSON.stringify(seen));
    assert.ok(total >= 50, `${total} requests`);
    assert.equal(status.models.live.inFlight, 0, 'every request released its reference');
  });
});
