import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { dlqTopic, TOPICS } from '@recsys/contracts';
import type { SuiteConfig } from './config';

/**
 * Topic-level settings that make Redis state rebuildable from Kafka (libs/messaging/README.md):
 * - catalog.items is compacted by key (item id): the latest upsert or delete of every item stays
 *   forever, so a replay from the earliest offset rebuilds the whole catalog, in bounded space.
 *   (Keys are item ids: ids must be unique across namespaces.)
 * - user.behaviors keeps KAFKA_BEHAVIORS_RETENTION_MS (default forever): histories are capped by
 *   count, not by age, so only an unbounded log guarantees an exact rebuild of every history.
 * - every DLQ topic is kept forever: it is the record the DLQ dedupe ledger is restored from.
 */
export function topicConfigs(config: Pick<SuiteConfig, 'KAFKA_BEHAVIORS_RETENTION_MS'>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {
    [TOPICS.catalogItems]: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'delete.retention.ms': String(7 * 24 * 3600 * 1000) },
    [TOPICS.userBehaviors]: { 'cleanup.policy': 'delete', 'retention.ms': String(config.KAFKA_BEHAVIORS_RETENTION_MS), 'retention.bytes': '-1' },
  };
  for (const t of Object.values(TOPICS)) out[dlqTopic(t)] = { 'cleanup.policy': 'delete', 'retention.ms': '-1' };
  return out;
}

/** Applies topicConfigs() on a real Kafka cluster (only the entries that differ). Best effort: a failure is logged. */
export async function applyTopicConfigs(config: SuiteConfig, log: Logger): Promise<void> {
  if (!config.KAFKA_BROKERS) return;
  const kafka = new Kafka({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: `${config.KAFKA_CLIENT_ID}-topic-config`,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
  });
  const admin = kafka.admin();
  const wanted = Object.entries(topicConfigs(config)).map(([t, entries]) => [`${config.KAFKA_TOPIC_PREFIX}${t}`, entries] as const);
  try {
    await admin.connect();
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: wanted.map(([name]) => ({ type: ConfigResourceTypes.TOPIC, name })) });
    const changes = [];
    for (const [name, entries] of wanted) {
      const current = described.resources.find((r) => r.resourceName === name)?.configEntries ?? [];
      const differs = Object.entries(entries).some(([k, v]) => current.find((c) => c.configName === k)?.configValue !== v);
      if (!differs) continue;
      // alterConfigs replaces the topic's dynamic configs: keep the ones set before, override ours.
      const kept = current.filter((c) => !c.isDefault && !(c.configName in entries)).map((c) => ({ name: c.configName, value: c.configValue }));
      changes.push({ type: ConfigResourceTypes.TOPIC, name, configEntries: [...kept, ...Object.entries(entries).map(([k, v]) => ({ name: k, value: v }))] });
    }
    if (changes.length) {
      await admin.alterConfigs({ validateOnly: false, resources: changes });
      log.info({ topics: changes.map((c) => c.name) }, 'topic retention settings applied');
    }
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not apply topic retention settings (catalog.items compaction, user.behaviors retention)');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
