import assert from 'node:assert/strict';
import { TOPICS } from '@recsys/contracts';
import type { BusRecord, EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { DLQ_HEADERS, EventPublisher } from '@recsys/messaging';
import { eventually, getJson, postJson } from '../support/suite';

export const DIM = 16;
export const itemVec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.round(Math.cos(i * 0.7 + j * 0.9) * 1e4) / 1e4);

/**
 * One scenario, run on the embedded adapters and on real Kafka + Redis: the catalog and
 * behaviours flow in through the bus, the behavior service builds history, SDIM tables and the user
 * embedding, retrieval finds candidates for the user, a replay changes nothing, and a behaviour
 * for an unknown item goes to the DLQ without stopping the consumer.
 */
export async function behaviorScenario(opts: { bus: EventBus; behaviorUrl: string; retrievalUrl: string; user: string; produce?: (topic: string, events: object[]) => Promise<void> }) {
  const { bus, behaviorUrl, retrievalUrl, user } = opts;
  const publisher = new EventPublisher(bus);
  const produce = opts.produce ?? ((topic: string, events: object[]) => publisher.publish(topic as never, events as never));
  const now = Date.now();
  await produce(
    TOPICS.catalogItems,
    Array.from({ length: 50 }, (_, i) => ({ eventId: `c-${user}-${i}`, key: `it-${i}`, timestamp: now, schemaVersion: 1, op: 'upsert', namespace: 'items', itemId: `it-${i}`, embedding: itemVec(i) })),
  );
  const behaviors = Array.from({ length: 30 }, (_, j) => ({
    eventId: `b-${user}-${j}`,
    key: user,
    timestamp: now - (30 - j) * 1000,
    schemaVersion: 1,
    userId: user,
    itemId: `it-${j % 10}`,
    type: 'click',
  }));
  await produce(TOPICS.userBehaviors, behaviors);
  const history = await eventually(
    async () => {
      const h = await getJson(`${behaviorUrl}/v1/users/${user}/history?limit=100`);
      return h.status === 200 && h.body.total === 30 ? h.body : undefined;
    },
    30_000,
    50,
  );
  assert.equal(history.items[0].itemId, 'it-9', 'newest first');

  const emb = await getJson(`${behaviorUrl}/v1/users/${user}/embedding`);
  assert.equal(emb.status, 200);
  assert.equal(emb.body.dim, DIM);
  assert.equal(emb.body.count, 30);

  const interest = await postJson(`${behaviorUrl}/v1/users/${user}/interest`, { itemIds: ['it-3', 'it-40'] });
  assert.equal(interest.status, 200, JSON.stringify(interest.body));
  assert.equal(interest.body.interests.length, 2);
  const norm = Math.hypot(...interest.body.interests[0].vector);
  assert.ok(norm > 0.1, `interest for a clicked item is non-zero (${norm})`);

  // The user embedding written by behavior is what retrieval uses for userId queries.
  const cands = await eventually(
    async () => {
      const r = await postJson(`${retrievalUrl}/v1/candidates`, { namespace: 'items', k: 10, userId: user });
      return r.status === 200 ? r.body : undefined;
    },
    30_000,
    50,
  );
  assert.equal(cands.length, 10);

  // Replay: the same events again change nothing; an unknown item goes to the DLQ, and later events still apply.
  const dead: BusRecord[] = [];
  const dlq = await bus.subscribe({ groupId: `dlq-${user}`, topics: [`${TOPICS.userBehaviors}.dlq`], fromBeginning: true, handler: async (r) => void dead.push(r) });
  const tablesBefore = await postJson(`${behaviorUrl}/v1/users/${user}/interest`, { itemIds: ['it-1', 'it-2'] });
  await produce(TOPICS.userBehaviors, [
    ...behaviors,
    { ...behaviors[0], eventId: `b-${user}-ghost`, itemId: 'no-such-item' },
    { ...behaviors[0], eventId: `b-${user}-after`, itemId: 'it-20', timestamp: now },
  ]);
  await eventually(async () => (await getJson(`${behaviorUrl}/v1/users/${user}/history`)).body.total === 31, 30_000, 50);
  await eventually(async () => dead.some((d) => d.value.toString().includes(`b-${user}-ghost`)), 30_000, 50);
  await dlq.stop();
  const ghost = dead.find((d) => d.value.toString().includes(`b-${user}-ghost`))!;
  assert.equal(ghost.headers[DLQ_HEADERS.code], 'unknown_item');
  const h2 = await getJson(`${behaviorUrl}/v1/users/${user}/history?limit=100`);
  assert.equal(h2.body.total, 31, 'replayed events were not applied twice');
  assert.equal(h2.body.items.filter((e: { itemId: string }) => e.itemId === 'it-20').length, 1);
  const tablesAfter = await postJson(`${behaviorUrl}/v1/users/${user}/interest`, { itemIds: ['it-1', 'it-2'] });
  assert.notDeepEqual(tablesAfter.body, tablesBefore.body, 'the new behaviour changed the tables');
  return { history: h2.body };
}
