import { z } from 'zod';
import { TOPICS, validateEvent, EventValidationError, type EventOf } from '@recsys/contracts';
import { DomainError, type AppContext } from '@recsys/platform';

/** Topics clients may write through the collector (impressions come from the gateway itself). */
export const COLLECTED_TOPICS = [TOPICS.feedFeedback, TOPICS.userBehaviors, TOPICS.adsEvents] as const;
export type CollectedTopic = (typeof COLLECTED_TOPICS)[number];
export const MAX_BATCH = 500;

/** The partition key each topic is keyed by: filled in when the client leaves `key` out. */
const KEY_FIELD: Record<CollectedTopic, string> = { 'feed.feedback': 'userId', 'user.behaviors': 'userId', 'ads.events': 'adId' };
/** Ad delivery events only: campaign changes belong to the ads app's admin API. */
const CLIENT_AD_TYPES = new Set(['impression', 'click', 'conversion']);

const eventInput = z.object({ topic: z.enum(COLLECTED_TOPICS) }).loose();
/** One event, or `{events: [...]}` with 1..500 of them. */
export const collectRequest = z.union([z.object({ events: z.array(eventInput).min(1).max(MAX_BATCH) }).strict(), eventInput]);

export interface IndexedIssue {
  index: number;
  path: string;
  message: string;
}

/** Keys present in `input` (deeply) that the schema dropped from `output`: the unknown fields. */
function unknownKeys(input: unknown, output: unknown, path: string, out: string[]) {
  if (Array.isArray(input) && Array.isArray(output)) {
    input.forEach((v, i) => unknownKeys(v, output[i], `${path}${path ? '.' : ''}${i}`, out));
    return;
  }
  if (input && typeof input === 'object' && output && typeof output === 'object') {
    for (const [k, v] of Object.entries(input)) {
      const p = `${path}${path ? '.' : ''}${k}`;
      if (!(k in (output as object))) out.push(p);
      else unknownKeys(v, (output as Record<string, unknown>)[k], p, out);
    }
  }
}

export type CollectedEvent = { topic: CollectedTopic; event: EventOf<CollectedTopic> };

/**
 * Validates client events against libs/contracts: the envelope's `key` (the topic's partition
 * entity), `timestamp` (now) and `schemaVersion` (1) may be left out and are filled in; `eventId`
 * is required (it makes retries safe); any field the contract does not know is rejected.
 * A batch is all-or-nothing: one bad event rejects it with every issue listed by index.
 */
export function validateCollected(body: z.output<typeof collectRequest>, now = Date.now()): CollectedEvent[] {
  const list = 'events' in body && Array.isArray(body.events) ? body.events : [body as z.output<typeof eventInput>];
  const issues: IndexedIssue[] = [];
  const out: CollectedEvent[] = [];
  list.forEach((raw, index) => {
    const { topic, ...fields } = raw as { topic: CollectedTopic } & Record<string, unknown>;
    const filled = { schemaVersion: 1, timestamp: now, ...fields, key: fields.key ?? fields[KEY_FIELD[topic]] };
    try {
      const event = validateEvent(topic, filled);
      const unknown: string[] = [];
      unknownKeys(fields, event, '', unknown);
      for (const p of unknown) issues.push({ index, path: p, message: 'unknown field' });
      if (topic === TOPICS.adsEvents && !CLIENT_AD_TYPES.has((event as EventOf<'ads.events'>).type)) {
        issues.push({ index, path: 'type', message: `clients may send ${[...CLIENT_AD_TYPES].join(', ')} ad events only` });
      }
      if (unknown.length === 0) out.push({ topic, event });
    } catch (e) {
      if (!(e instanceof EventValidationError)) throw e;
      for (const i of e.issues) issues.push({ index, path: i.path, message: i.message });
    }
  });
  if (issues.length > 0) throw new DomainError('validation_failed', 422, `${new Set(issues.map((i) => i.index)).size} of ${list.length} events do not match their topic's schema`, { errors: issues });
  return out;
}

/**
 * Writes validated events to the bus, each at most once by eventId (per topic): an event id is
 * claimed in the state store (SET NX, kept `ttlMs`) before it is produced; a produce that fails
 * releases its claims, so the client's retry goes through.
 */
export class EventCollector {
  constructor(
    private readonly ctx: AppContext,
    private readonly ttlMs = 7 * 24 * 3600_000,
  ) {}

  async collect(events: CollectedEvent[]): Promise<{ accepted: number; duplicates: number; results: { eventId: string; topic: string; status: 'accepted' | 'duplicate' }[] }> {
    const state = this.ctx.infra.state;
    const claimKey = (e: CollectedEvent) => `gw:evt:${e.topic}:${e.event.eventId}`;
    const firstInBatch = new Set<string>();
    const claims = await Promise.all(
      events.map(async (e) => {
        const k = claimKey(e);
        if (firstInBatch.has(k)) return false;
        firstInBatch.add(k);
        return state.set(k, '1', { ifAbsent: true, ttlMs: this.ttlMs });
      }),
    );
    const fresh = events.filter((_, i) => claims[i]);
    const byTopic = new Map<CollectedTopic, EventOf<CollectedTopic>[]>();
    for (const e of fresh) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e.event]);
    try {
      await Promise.all([...byTopic].map(([topic, list]) => this.ctx.publisher.publish(topic, list as never)));
    } catch (e) {
      await Promise.allSettled(fresh.map((f) => state.del(claimKey(f))));
      this.ctx.log.error({ err: e }, 'event collector: produce failed');
      throw new DomainError('bus_unavailable', 503, 'the events could not be written; retry with the same event ids');
    }
    const results = events.map((e, i) => ({ eventId: e.event.eventId, topic: e.topic, status: (claims[i] ? 'accepted' : 'duplicate') as 'accepted' | 'duplicate' }));
    return { accepted: fresh.length, duplicates: events.length - fresh.length, results };
  }
}
