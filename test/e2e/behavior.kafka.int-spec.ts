import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { realInfra, uniqueName } from '../support/infra';
import { startTestSuite } from '../support/suite';
import { behaviorScenario, DIM } from './behavior.flow';

describe('behavior service on real Kafka and Redis (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('bh')}.`;
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'behavior-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let suite: Awaited<ReturnType<typeof startTestSuite>>;

  beforeAll(async () => {
    suite = await startTestSuite({
      APPS: 'retrieval,behavior',
      EMBEDDING_DIM: String(DIM),
      // Kafka delivers the catalog's partitions 100-300 ms apart at first: 300 ms sent valid behaviours to the DLQ as unknown_item.
      BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '3000',
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
  });

  it('behaviours produced with kafkajs update the tables in Redis; replay changes nothing; an unknown item does not stop the consumer', async () => {
    await behaviorScenario({
      bus: suite.infra.bus,
      behaviorUrl: suite.url('behavior'),
      retrievalUrl: suite.url('retrieval'),
      user: 'bob',
      produce: async (topic, events) => {
        await producer.send({ topic: `${prefix}${topic}`, messages: events.map((e) => ({ key: (e as { key: string }).key, value: JSON.stringify(e) })) });
      },
    });
  });
});
