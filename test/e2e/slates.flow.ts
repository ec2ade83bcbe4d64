import assert from 'node:assert/strict';
import { TOPICS } from '@recsys/contracts';
import type { BusRecord, EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { DLQ_HEADERS, EventPublisher } from '@recsys/messaging';
import { eventually, getJson, postJson } from '../support/suite';

/** Env the slates scenario needs (set before the suite starts): short feedback windows, fast sweeps. */
export const SLATES_TEST_ENV = { SLATES_FEEDBACK_WINDOW_MS: '400', SLATES_SWEEP_INTERVAL_MS: '50', SLATES_PBM_INTERVAL_MS: '200', SLATES_POSITIONS: '5' };

export function withEnv(env: Record<string, string>): () => void {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

type Produce = (topic: string, events: object[]) => Promise<void>;

/**
 * One scenario on the embedded adapters and on real Kafka + Redis: POST /v1/slates answers slates
 * with propensities; a click produced before its impression still joins and moves the clicked
 * item's posterior up; when the window closes the shown item not clicked moves down; replaying
 * both topics changes nothing; a malformed impression goes to the DLQ and the consumer moves on.
 */
export async function slatesScenario(opts: { bus: EventBus; url: string; user: string; produce?: Produce }) {
  const { bus, url, user } = opts;
  const publisher = new EventPublisher(bus);
  const produce: Produce = opts.produce ?? ((topic, events) => publisher.publish(topic as never, events as never));
  const u = user;

  // POST /v1/slates: a slate with propensities, deterministic under a seed.
  const candidates = Array.from({ length: 40 }, (_, i) => ({ itemId: `${u}-c${i}`, score: 0.01 + 0.005 * i, group: `g${i % 4}` }));
  const body = { userId: u, size: 5, candidates, seed: 42, draws: 100 };
  const r1 = await postJson(`${url}/v1/slates`, body);
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assert.equal(r1.body.policyId, 'in-slate-ts/logistic');
  assert.equal(r1.body.slate.length, 5);
  assert.equal(new Set(r1.body.slate.map((s: { itemId: string }) => s.itemId)).size, 5);
  for (const [k, s] of r1.body.slate.entries()) {
    assert.equal(s.position, k);
    assert.ok(s.propensity > 0 && s.propensity <= 1 && s.inclusionPropensity >= s.propensity, JSON.stringify(s));
    assert.ok(s.sampledScore > 0 && s.sampledScore < 1);
  }
  const r2 = await postJson(`${url}/v1/slates`, body);
  assert.deepEqual(r2.body.slate, r1.body.slate, 'same seed, same slate and propensities');
  assert.notEqual(r2.body.requestId, r1.body.requestId);
  const greedy = await postJson(`${url}/v1/slates`, { ...body, policy: 'greedy' });
  assert.equal(greedy.body.propensityMethod, 'exact');
  // no feedback yet: every posterior is its prior, so greedy is the ranker's order
  assert.deepEqual(
    greedy.body.slate.map((s: { itemId: string }) => s.itemId),
    [39, 38, 37, 36, 35].map((i) => `${u}-c${i}`),
  );
  assert.deepEqual(
    greedy.body.slate.map((s: { propensity: number }) => s.propensity),
    [1, 1, 1, 1, 1],
  );
  const capped = await postJson(`${url}/v1/slates`, { ...body, groupCap: 1, size: 4 });
  assert.equal(new Set(capped.body.slate.map((s: { itemId: string }) => candidates.find((c) => c.itemId === s.itemId)!.group)).size, 4);

  // Problems.
  const bad = await postJson(`${url}/v1/slates`, { ...body, size: 0 });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.code, 'validation_failed');
  const dup = await postJson(`${url}/v1/slates`, { ...body, candidates: [candidates[0], candidates[0]] });
  assert.equal(dup.status, 422);
  assert.equal(dup.body.code, 'duplicate_candidates');
  const none = await getJson(`${url}/v1/slates/posteriors/${u}-never-shown`);
  assert.equal(none.status, 404);
  assert.equal(none.body.code, 'posterior_not_found');

  // Feedback: the click comes first, the impression after it.
  const now = Date.now();
  const env = { key: u, schemaVersion: 1 };
  const a = `${u}-a`;
  const b = `${u}-b`;
  const click = { ...env, eventId: `${u}-click-1`, timestamp: now + 5, requestId: `${u}-req-1`, userId: u, itemId: b, type: 'click' };
  const impression = {
    ...env,
    eventId: `${u}-imp-1`,
    timestamp: now,
    requestId: `${u}-req-1`,
    userId: u,
    surface: 'home',
    items: [
      { itemId: a, position: 0, score: 0.2, group: `${u}-g` },
      { itemId: b, position: 1, score: 0.2, group: `${u}-g` },
    ],
  };
  await produce(TOPICS.feedFeedback, [click]);
  await produce(TOPICS.feedImpressions, [impression]);
  const postB = await eventually(
    async () => {
      const r = await getJson(`${url}/v1/slates/posteriors/${b}`);
      return r.status === 200 && r.body.item.clicks === 1 ? r.body : undefined;
    },
    30_000,
    25,
  );
  assert.ok(postB.item.mean > 0, 'a click moves the item up');
  assert.equal(postB.group, `${u}-g`);
  const postA = await eventually(
    async () => {
      const r = await getJson(`${url}/v1/slates/posteriors/${a}`);
      return r.status === 200 && r.body.item.exposures > 0 ? r.body : undefined;
    },
    30_000,
    25,
  );
  assert.ok(postA.item.mean < 0, 'a skip at the top moves the item down');
  assert.equal(postA.item.clicks, 0);
  const afterB = (await getJson(`${url}/v1/slates/posteriors/${b}`)).body;

  // Replay both topics plus a malformed impression and a sentinel request on other items.
  const dead: BusRecord[] = [];
  const dlq = await bus.subscribe({ groupId: `dlq-${u}`, topics: [`${TOPICS.feedImpressions}.dlq`], fromBeginning: true, handler: async (r) => void dead.push(r) });
  const s = `${u}-s`;
  await produce(TOPICS.feedImpressions, [
    impression,
    { ...impression, eventId: `${u}-imp-bad`, requestId: `${u}-req-bad`, items: [impression.items[0], { ...impression.items[1], position: 0 }] },
    { ...impression, eventId: `${u}-imp-2`, requestId: `${u}-req-2`, items: [{ itemId: s, position: 0, score: 0.1, group: `${u}-other` }] },
  ]);
  await produce(TOPICS.feedFeedback, [click, { ...click, eventId: `${u}-click-2`, requestId: `${u}-req-2`, itemId: s }]);
  await eventually(async () => (await getJson(`${url}/v1/slates/posteriors/${s}`)).body?.item?.clicks === 1, 30_000, 25);
  await eventually(async () => dead.some((d) => d.value.toString().includes(`${u}-imp-bad`)), 30_000, 25);
  await dlq.stop();
  assert.equal(dead.find((d) => d.value.toString().includes(`${u}-imp-bad`))!.headers[DLQ_HEADERS.code], 'malformed_impression');
  const a2 = (await getJson(`${url}/v1/slates/posteriors/${a}`)).body;
  const b2 = (await getJson(`${url}/v1/slates/posteriors/${b}`)).body;
  assert.deepEqual(a2.item, postA.item, 'replay changed nothing for the skipped item');
  assert.deepEqual(b2.item, afterB.item, 'replay changed nothing for the clicked item');

  const pb = await getJson(`${url}/v1/slates/position-bias`);
  assert.equal(pb.status, 200);
  assert.equal(pb.body.examination[0], 1);
  assert.equal(pb.body.examination.length, 5);
  return { postA, postB };
}
