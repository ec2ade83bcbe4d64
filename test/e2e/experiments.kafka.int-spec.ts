import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { realInfra, uniqueName } from '../support/infra';
import { eventually, getJson, startTestSuite } from '../support/suite';
import { ADMIN, adminPost, runTraffic, type Produce } from './experiments.flow';

describe('experiments service on real Kafka and PostgreSQL (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('exp')}.`;
  const key = uniqueName('int-exp').toLowerCase();
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'experiments-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;

  beforeAll(async () => {
    suite = await startTestSuite({
      APPS: 'experiments',
      ADMIN_TOKEN: ADMIN,
      KAFKA_BROKERS: real.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      REDIS_URL: real.redisUrl,
      DATABASE_URL: real.databaseUrl,
      STATE_PREFIX: prefix,
    });
    url = suite.url('experiments');
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await suite?.close();
  });

  it('impressions and feedback produced with kafkajs appear in the results (PostgreSQL aggregates); a replay changes nothing', async () => {
    const c = await adminPost(`${url}/v1/experiments`, {
      key,
      name: 'integration',
      start: true,
      variants: [
        { key: 'control', weight: 1 },
        { key: 'treatment', weight: 1, overrides: { slatePolicy: 'v2' } },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const produce = (async (topic: string, events: Array<{ key: string }>) => {
      for (let i = 0; i < events.length; i += 500) {
        await producer.send({ topic: `${prefix}${topic}`, messages: events.slice(i, i + 500).map((e) => ({ key: e.key, value: JSON.stringify(e) })) });
      }
    }) as Produce;
    const exp = await runTraffic({ experimentsUrl: url, experiment: key, users: 200, lift: 0.3, produce, prefix: `${key}-u`, seed: 9 });
    const matches = (b: any) =>
      b.variants.every((v: { key: string; users: number }) => v.users === exp.users[v.key]) &&
      b.metrics
        .filter((m: { metric: string }) => m.metric === 'clicks_per_user')
        .every((m: { variant: string; mean: number }) => Math.abs(m.mean * exp.users[m.variant] - exp.clicks[m.variant]) < 1e-6);
    let last: unknown;
    const res = await eventually(
      async () => {
        const r = await getJson(`${url}/v1/experiments/${key}/results`);
        last = { variants: r.body.variants, clicks: r.body.metrics?.filter((m: { metric: string }) => m.metric === 'clicks_per_user'), expected: { users: exp.users, clicks: exp.clicks } };
        return r.status === 200 && matches(r.body) && r.body;
      },
      60_000,
      200,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
    });
    const ctr = res.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === 'treatment');
    assert.ok(Math.abs(ctr.mean - exp.clicks.treatment / exp.items.treatment) < 1e-12);
    const rows = await suite.infra.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM exp_exposures WHERE experiment_key = $1', [key]);
    assert.equal(Number(rows.rows[0].n), exp.users.control + exp.users.treatment);

    // Replay the whole stream through Kafka; a marker event after it shows the consumer got there.
    await produce('feed.impressions', exp.impressions);
    await produce('feed.feedback', exp.feedback);
    const marker = `${key}-marker`;
    await produce('feed.feedback', [{ eventId: marker, key: marker, timestamp: Date.now(), schemaVersion: 1, userId: marker, itemId: 'x', type: 'click' }]);
    await eventually(async () => (await suite.infra.sql.query('SELECT 1 FROM exp_pending_events WHERE event_id = $1', [marker])).rowCount > 0, 60_000, 200);
    const again = (await getJson(`${url}/v1/experiments/${key}/results`)).body;
    assert.ok(matches(again));
    assert.deepEqual(
      again.metrics.map((m: { mean: number }) => m.mean),
      res.metrics.map((m: { mean: number }) => m.mean),
    );
  });
});
