import { z } from 'zod';
import { ALL_TOPICS, dlqTopic, topicSchemas, type TopicName } from '@recsys/contracts';

const DESCRIPTIONS: Record<TopicName, string> = {
  'catalog.items': 'Item and ad upserts/deletes per namespace, keyed by itemId. Retrieval, ranking, behavior and the gateway build their catalog state from it.',
  'user.behaviors': 'What a user did with an item (view, click, like, ...), keyed by userId. Feeds the behaviour history, SDIM tables and user embedding.',
  'feed.impressions':
    'The one decision record of a feed fetch (record version 2): items shown with per-slot propensities, candidates considered, slate and ad-load decisions, prices, versions, variants, degraded stages. Produced by the gateway.',
  'feed.feedback': 'What the user did with what was shown (click, hide, dwell, ...), keyed by userId; joined to impressions by requestId.',
  'ads.events': 'Campaign changes and ad delivery events, keyed by adId.',
  'models.lifecycle': 'Ranking model registry changes, keyed by model name.',
};

/**
 * AsyncAPI 3.0 document of the suite's Kafka topics, generated from the same zod schemas the
 * producers and consumers validate with (libs/contracts), so it cannot drift from them.
 */
export function asyncApiDocument(opts: { kafkaBrokers?: string; topicPrefix?: string } = {}) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const topic of ALL_TOPICS) {
    const id = topic.replace(/\./g, '_');
    const schema = z.toJSONSchema(topicSchemas[topic], { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete schema.$schema;
    schemas[id] = schema;
    messages[id] = {
      name: id,
      title: topic,
      contentType: 'application/json',
      summary: DESCRIPTIONS[topic],
      payload: { $ref: `#/components/schemas/${id}` },
      bindings: { kafka: { key: { type: 'string', description: 'the envelope `key` (partition entity)' }, bindingVersion: '0.5.0' } },
    };
    channels[id] = {
      address: `${opts.topicPrefix ?? ''}${topic}`,
      description: `${DESCRIPTIONS[topic]} Invalid records go to ${dlqTopic(topic)} with the reason in their headers.`,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    };
    operations[`send_${id}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: `Produce to ${topic} (validated on produce and on consume)`,
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'recsys-suite events',
      version: '1.0.0',
      description:
        'Kafka topics of the suite. Every message is JSON with the envelope {eventId, key, timestamp, schemaVersion}; consumers dedupe by eventId. ' +
        'HTTP clients can send feed.feedback, user.behaviors and ads.events (impression/click/conversion) through POST /v1/events on the gateway instead.',
    },
    defaultContentType: 'application/json',
    servers: opts.kafkaBrokers
      ? Object.fromEntries(opts.kafkaBrokers.split(',').map((b, i) => [`broker${i}`, { host: b, protocol: 'kafka' }]))
      : { embedded: { host: 'in-process', protocol: 'kafka', description: 'embedded stack: the in-process log (set KAFKA_BROKERS for real brokers)' } },
    channels,
    operations,
    components: { messages, schemas },
  };
}
