import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stateKeys } from '../../libs/contracts/src/state-keys';
import { EventPublisher } from '../../libs/messaging/src';
import { BucketTables, encodeTables, hasherFor } from '../../libs/sdim/src';
import { postJson, startTestSuite } from '../support/suite';
import { catalogEvents, makeItems, promote, ReferenceScorer, registerModel, syntheticVersions, waitServing } from './ranking.flow';
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

  before(async () => {
    suite = await startTestSuite({ APPS: 'ranking' });
    url = suite.url('ranking');
    await new EventPublisher(suite.infra.bus).publish('catalog.items', catalogEvents(items, 'hs') as never);
    // Tables for a few users, written the way the behavior service writes them.
    const hasher = hasherFor(v1.spec.sdim);
    for (let u = 0; u < 4; u++) {
      const t = new BucketTables(hasher);
      for (let j = 0; j < 20; j++) t.add(items[(u * 37 + j * 11) % items.length].embedding);
      await suite.infra.state.set(stateKeys.userSdimTables(`user-${u}`), encodeTables(t));
    }
    await eventually(async () => (await getJson(`${url}/v1/status`)).body.catalog.items === items.length, 20_000);
    for (const [v, m] of Object.entries({ v1, v2 })) {
      assert.equal((await registerModel(url, 'ctr', v, m.bytes, m.spec)).status, 201);
      refs[v] = await ReferenceScorer.create(m.bytes, m.spec, items);
    }
    await promote(url, 'ctr', 'v1', 'live');
  });
  after(async () => {
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
    const expected: Record<string, Map<string, number>[]> = {};
    for (const v of ['v1', 'v2']) {
      expected[v] = [];
      for (const q of requests) expected[v].push(await refs[v].score(suite.infra.state, q.userId, q.domain, [...new Set(q.candidates)]));
    }

    let stop = false;
    const seen: Record<string, number> = {};
    const failures: string[] = [];
    let total = 0;
    const latencies: number[] = [];
    const client = async (c: number) => {
      for (let n = 0; !stop; n++) {
        const qi = (c + n) % requests.length;
        const started = performance.now();
        let res: Response;
        try {
          res = await fetch(`${url}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(requests[qi]) });
        } catch (e) {
          failures.push(`client ${c}: ${(e as Error).message}`);
          continue;
        }
        const body = (await res.json()) as { itemId: string; pctr: number }[];
        latencies.push(performance.now() - started);
        total++;
        if (res.status !== 200) {
          failures.push(`status ${res.status}: ${JSON.stringify(body)}`);
          continue;
        }
        const v = res.headers.get('x-model-version') ?? '?';
        seen[v] = (seen[v] ?? 0) + 1;
        const want = expected[v]?.[qi];
        if (!want) failures.push(`unexpected version ${v}`);
        else if (body.length !== want.size || body.some((x) => x.pctr !== want.get(x.itemId))) failures.push(`request ${qi}: scores are not all from ${v}`);
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
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
    stop = true;
    await Promise.all(clients);
    latencies.sort((a, b) => a - b);
    const status = (await getJson(`${url}/v1/status`)).body;
    console.log(`hot swap: ${total} requests, by version ${JSON.stringify(seen)}, p50 ${latencies[Math.floor(total * 0.5)].toFixed(1)} ms, p99 ${latencies[Math.floor(total * 0.99)].toFixed(1)} ms, max ${latencies[total - 1].toFixed(1)} ms; live load ${status.models.live.loadMs} ms`);
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(seen.v1 > 0 && seen.v2 > 0, JSON.stringify(seen));
    assert.ok(total >= 50, `${total} requests`);
    assert.equal(status.models.live.inFlight, 0, 'every request released its reference');
  });
});
