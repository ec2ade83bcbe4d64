import { z } from 'zod';
import { EventOf, TopicName, topicSchemas } from './topics';

export interface ValidationIssue {
  path: string;
  message: string;
}

/** A message or request that does not match its schema. `issues` lists every problem, not just the first. */
export class EventValidationError extends Error {
  readonly code = 'event_invalid';
  constructor(
    readonly topic: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`${topic}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function validateEvent<T extends TopicName>(topic: T, value: unknown): EventOf<T> {
  const schema = topicSchemas[topic] as unknown as z.ZodType<EventOf<T>>;
  const r = schema.safeParse(value);
  if (!r.success) throw new EventValidationError(topic, zodIssues(r.error));
  return r.data;
}

/** Parses the bytes of a message: JSON errors and schema errors both become EventValidationError. */
export function decodeEvent<T extends TopicName>(topic: T, bytes: Buffer): EventOf<T> {
  let value = parsedValues.get(bytes);
  if (value === undefined) {
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new EventValidationError(topic, [{ path: '', message: `not JSON: ${(e as Error).message}` }]);
    }
    if (value !== null && typeof value === 'object') parsedValues.set(bytes, value);
  }
  return validateEvent(topic, value);
}

/**
 * JSON values of record bytes parsed in this process. The in-process log hands every consumer
 * group the same Buffer, so a large record (a feed.impressions decision record is ~30 KB) is
 * parsed once rather than once per group. The parsed value itself is never handed out: each
 * consumer validates it and gets the objects and arrays zod builds for it, so no consumer sees
 * another's changes (values of `unknown`-typed fields excepted, which zod passes by reference).
 */
const parsedValues = new WeakMap<Buffer, unknown>();

export function isKnownTopic(topic: string): topic is TopicName {
  return Object.prototype.hasOwnProperty.call(topicSchemas, topic);
}
