import { join } from 'node:path';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import type { EventBus } from '@recsys/infra/event-bus/event-bus.port';
import { PrefixedEventBus } from '@recsys/infra/event-bus/event-bus.prefixed';
import { BullMqJobQueue } from '@recsys/infra/job-queue/job-queue.bullmq.adapter';
import { InProcessJobQueue } from '@recsys/infra/job-queue/job-queue.inprocess.adapter';
import { migrate } from '@recsys/infra/sql/migrate';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { PgliteSqlDatabase } from '@recsys/infra/sql/sql.pglite.adapter';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { ALL_TOPICS, dlqTopic } from '@recsys/contracts';
import type { InfraContext } from './app-context';
import type { SuiteConfig } from './config';
import type { Logger } from 'pino';
import { applyTopicConfigs } from './topic-config';

/**
 * Picks an adapter per port from configuration alone: a set URL selects the real server,
 * an unset one the embedded adapter. Creates the topics and applies the migrations.
 */
export async function createInfra(config: SuiteConfig, log: Logger): Promise<InfraContext> {
  const baseBus: EventBus = config.KAFKA_BROKERS
    ? new KafkaEventBus({ brokers: config.KAFKA_BROKERS.split(','), clientId: config.KAFKA_CLIENT_ID })
    : new InProcessEventBus({ defaultPartitions: config.KAFKA_PARTITIONS });
  const bus = config.KAFKA_TOPIC_PREFIX ? new PrefixedEventBus(baseBus, config.KAFKA_TOPIC_PREFIX) : baseBus;
  const state = config.REDIS_URL ? new RedisStateStore(config.REDIS_URL, { keyPrefix: config.STATE_PREFIX }) : new MemoryStateStore();
  const sql = config.DATABASE_URL ? new PgSqlDatabase(config.DATABASE_URL) : await PgliteSqlDatabase.create(config.PGLITE_DIR ? join(config.PGLITE_DIR) : undefined);
  const jobs = config.REDIS_URL ? new BullMqJobQueue(config.REDIS_URL, { prefix: `${config.STATE_PREFIX}bull` }) : new InProcessJobQueue();

  const applied = await migrate(sql);
  log.info({ applied }, 'migrations applied');
  await bus.ensureTopics(
    ALL_TOPICS.flatMap((topic) => [
      { topic, partitions: config.KAFKA_PARTITIONS },
      { topic: dlqTopic(topic), partitions: 1 },
    ]),
  );
  await applyTopicConfigs(config, log);

  return {
    bus,
    state,
    sql,
    jobs,
    kinds: { bus: bus.kind, state: state.kind, sql: sql.kind, jobs: jobs.kind },
    async close() {
      await Promise.allSettled([jobs.close(), bus.close()]);
      await Promise.allSettled([state.close(), sql.close()]);
    },
  };
}
