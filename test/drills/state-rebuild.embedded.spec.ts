import assert from 'node:assert/strict';
import { EventPublisher } from '@recsys/messaging';
import { eventually, getJson, startTestSuite } from '@recsys/testing/suite';

/**
 * The behavior service's state generation on the embedded adapters: wiping the store (what a
 * Redis restart without its AOF does) is noticed, readiness goes down, the state is rebuilt from
 * the log and ends equal to what it was; a bad record is not dead-lettered a second time by the
 * replay (the DLQ ledger is restored from the DLQ topic).
 */
describe('behavior state rebuilt from the log after a store loss (embedded)', () => {
  const DIM = 8;
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  beforeAll(async () => {
    suite = await startTestSuite({ APPS: 'behavior', EMBEDDING_DIM: String(DIM), STATE_GENERATION_CHECK_MS: '100', BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '2000' });
  });
  afterAll(async () => suite?.close());

  it('wipe -> readiness down -> replay -> the same histories, no second dead letter', async () => {
    const url = suite.url('behavior');
    const pub = new EventPublisher(suite.infra.bus);
    const now = 1_700_000_000_000;
    await pub.publish(
      'catalog.items',
      Array.from({ length: 20 }, (_, i) => ({
        eventId: `c${i}`,
        key: `it-${i}`,
        timestamp: now,
        schemaVersion: 1 as const,
        op: 'upsert' as const,
        namespace: 'items',
        itemId: `it-${i}`,
        embedding: Array.from({ length: DIM }, (_, j) => Math.cos(i + j)),
      })),
    );
    await suite.infra.bus.produce('catalog.items', [{ key: 'bad', value: JSON.stringify({ eventId: 'bad', key: 'bad', itemId: 'bad' }) }]);
    const dlqCount = async () => Object.values(await suite.infra.bus.endOffsets('catalog.items.dlq')).reduce((a, o) => a + Number(o), 0);
    await eventually(async () => (await dlqCount()) === 1, 10_000);
    await pub.publish(
      'user.behaviors',
      Array.from({ length: 60 }, (_, k) => ({
        eventId: `b${k}`,
        key: `u${k % 3}`,
        timestamp: now + k,
        schemaVersion: 1 as const,
        userId: `u${k % 3}`,
        itemId: `it-${k % 20}`,
        type: 'click' as const,
      })),
    );
    const histories = async () => Promise.all([0, 1, 2].map(async (u) => (await getJson(`${url}/v1/users/u${u}/history?limit=1000`)).body));
    await eventually(async () => (await histories()).every((h) => h.total === 20), 10_000);
    const before = await histories();
    assert.equal(await dlqCount(), 1);

    // The store loses everything.
    const state = suite.infra.state;
    const keys = await state.scanKeys('*');
    assert.ok(keys.includes('generation:behavior'));
    await state.del(...keys);
    await eventually(async () => (await getJson(`${url}/health/ready`)).status === 503, 5000, 10).catch(() => undefined); // the rebuild may finish first
    await eventually(async () => (await state.exists('generation:behavior')) && (await histories()).every((h) => h.total === 20), 20_000);
    await eventually(async () => (await getJson(`${url}/health/ready`)).status === 200, 10_000);
    assert.deepEqual(await histories(), before);
    assert.equal(await dlqCount(), 1, 'the replay did not dead-letter the bad record again');
  });
});
