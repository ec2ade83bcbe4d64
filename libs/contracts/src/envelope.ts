import { z } from 'zod';

/**
 * Every event carries the same envelope: an id for idempotency, the partition key (user or item id),
 * the time it happened (epoch ms) and the schema version of its topic.
 * Consumers dedupe by eventId; producers key by `key` so one user's (or item's) events stay ordered.
 */
export const eventId = z.string().min(1).max(200);
export const entityId = z.string().min(1).max(200);

export const envelope = {
  eventId,
  key: entityId,
  timestamp: z.number().int().nonnegative(),
  schemaVersion: z.literal(1),
};

export const finiteNumber = z.number().refine((n) => Number.isFinite(n), { message: 'must be a finite number' });

/** `key` must repeat the entity the topic is partitioned by; otherwise ordering per entity breaks. */
export function keyMustEqual<T extends { key: string }>(field: keyof T & string) {
  return (event: T, ctx: z.RefinementCtx) => {
    if (event.key !== (event as Record<string, unknown>)[field]) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: `key must equal ${field}` });
    }
  };
}
