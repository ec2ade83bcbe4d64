import assert from 'node:assert/strict';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { eventBusContract } from './event-bus.contract';
import { KafkaEventBus } from './event-bus.kafka.adapter';

const { kafkaBrokers } = realInfra();

// Fast redelivery and no console noise for the failures the contract provokes on purpose.
eventBusContract(
  'kafkajs on a real broker',
  async () =>
    new KafkaEventBus({
      brokers: kafkaBrokers,
      clientId: uniqueName('bus-contract'),
      retryBackoff: { initialMs: 50, maxMs: 500 },
      onHandlerError: () => undefined,
    }),
);

describe('KafkaEventBus (Kafka specifics)', () => {
  it('ping rejects quickly when no broker listens', async () => {
    const bus = new KafkaEventBus({ brokers: ['127.0.0.1:1'], clientId: 'ping-test', pingTimeoutMs: 1_000 });
    const t0 = Date.now();
    await assert.rejects(bus.ping());
    assert.ok(Date.now() - t0 < 5_000, `ping took ${Date.now() - t0} ms`);
    await bus.close();
  });

  it('ensureTopics adds partitions to an existing topic and never removes any', async () => {
    const bus = new KafkaEventBus({ brokers: kafkaBrokers, clientId: uniqueName('bus-int') });
    try {
      const topic = uniqueName('bus-grow');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      assert.deepEqual(Object.keys(await bus.endOffsets(topic)), ['0', '1']);
      await bus.ensureTopics([{ topic, partitions: 3 }]);
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      assert.deepEqual(Object.keys(await bus.endOffsets(topic)), ['0', '1', '2']);
      await bus.ping();
    } finally {
      await bus.close();
    }
  });
});
