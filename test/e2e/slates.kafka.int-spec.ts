import { Kafka, logLevel, Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { realInfra, uniqueName } from '../support/infra';
import { startTestSuite } from '../support/suite';
import { SLATES_TEST_ENV, slatesScenario, withEnv } from './slates.flow';
import { decodeRecord } from '../../apps/slates/src/domain/posterior-store';

describe('slates service on real Kafka and Redis (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('sl')}.`;
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'slates-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let restore: () => void;

  beforeAll(async () => {
    restore = withEnv(SLATES_TEST_ENV);
    suite = await startTestSuite({
      APPS: 'slates',
      KAFKA_BROKERS: real.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      REDIS_URL: real.redisUrl,
      DATABASE_URL: real.databaseUrl,
      STATE_PREFIX: prefix,
    });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await suite?.close();
    restore?.();
  });

  it('impressions and feedback produced with kafkajs move the posteriors in Redis, visible through the API; replay changes nothing', async () => {
    await slatesScenario({
      bus: suite.infra.bus,
      url: suite.url('slates'),
      user: 'bo',
      produce: async (topic, events) => {
        await producer.send({ topic: `${prefix}${topic}`, messages: events.map((e) => ({ key: (e as { key: string }).key, value: JSON.stringify(e) })) });
      },
    });
    // The posteriors live in Redis under the {slates} hash tag.
    const redis = new Redis(real.redisUrl, { lazyConnect: true });
    try {
      await redis.connect();
      const keys = await redis.keys(`${prefix}{slates}:post:i:bo-*`);
      expect(keys.sort()).toEqual([`${prefix}{slates}:post:i:bo-a`, `${prefix}{slates}:post:i:bo-b`, `${prefix}{slates}:post:i:bo-s`]);
      const b = decodeRecord((await redis.getBuffer(`${prefix}{slates}:post:i:bo-b`))!);
      expect(b.clicks).toBe(1);
      for (const k of await redis.keys(`${prefix}*`)) await redis.del(k);
    } finally {
      redis.disconnect();
    }
  });
});
