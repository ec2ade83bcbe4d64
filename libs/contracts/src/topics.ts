import { z } from 'zod';
import { entityId, envelope, finiteNumber, keyMustEqual } from './envelope';

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** catalog.items: item and ad upserts/deletes, keyed by itemId, per namespace (`items`, `ads`, ...). */
export const catalogItemEvent = z
  .object({
    ...envelope,
    op: z.enum(['upsert', 'delete']),
    namespace: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _'),
    itemId: entityId,
    group: z.string().min(1).max(200).optional(),
    embedding: z.array(finiteNumber).min(1).max(4096).optional(),
    attributes: z.record(z.string(), attributeValue).optional(),
  })
  .superRefine(keyMustEqual('itemId'))
  .superRefine((e, ctx) => {
    if (e.op === 'upsert' && !e.embedding) ctx.addIssue({ code: 'custom', path: ['embedding'], message: 'upsert needs an embedding' });
  });

export const behaviorTypes = ['view', 'click', 'like', 'add_to_cart', 'purchase', 'share', 'hide', 'dislike'] as const;

/** user.behaviors: what a user did with an item, keyed by userId. */
export const userBehaviorEvent = z
  .object({
    ...envelope,
    userId: entityId,
    itemId: entityId,
    type: z.enum(behaviorTypes),
    surface: z.string().max(100).optional(),
    dwellMs: z.number().int().nonnegative().optional(),
  })
  .superRefine(keyMustEqual('userId'));

/** feed.impressions: one feed response as shown, with propensities and experiment variants, keyed by userId. */
export const feedImpressionEvent = z
  .object({
    ...envelope,
    requestId: z.string().min(1),
    userId: entityId,
    surface: z.string().min(1).max(100),
    items: z
      .array(
        z.object({
          itemId: entityId,
          position: z.number().int().nonnegative(),
          isAd: z.boolean().default(false),
          adId: z.string().optional(),
          score: finiteNumber.optional(),
          propensity: z.number().gt(0).max(1).optional(),
        }),
      )
      .max(1000),
    variants: z.record(z.string(), z.string()).default({}),
    adLoad: z
      .object({ policyId: z.string(), adSlots: z.number().int().nonnegative(), propensity: z.number().gt(0).max(1) })
      .optional(),
  })
  .superRefine(keyMustEqual('userId'));

/** feed.feedback: what the user did with what was shown, keyed by userId. */
export const feedFeedbackEvent = z
  .object({
    ...envelope,
    requestId: z.string().min(1).optional(),
    userId: entityId,
    itemId: entityId,
    type: z.enum(['click', 'hide', 'dwell', 'conversion', 'like', 'share']),
    value: finiteNumber.optional(),
  })
  .superRefine(keyMustEqual('userId'));

/** ads.events: campaign changes and ad delivery events, keyed by adId. */
export const adEvent = z
  .object({
    ...envelope,
    adId: entityId,
    campaignId: entityId,
    type: z.enum(['impression', 'click', 'conversion', 'spend', 'campaign_upsert', 'campaign_pause']),
    userId: entityId.optional(),
    requestId: z.string().optional(),
    amountMicros: z.number().int().nonnegative().optional(),
  })
  .superRefine(keyMustEqual('adId'));

/** models.lifecycle: registry changes every ranking replica follows, keyed by model name. */
export const modelLifecycleEvent = z
  .object({
    ...envelope,
    modelName: entityId,
    version: z.string().min(1).max(100),
    action: z.enum(['registered', 'promoted_shadow', 'promoted_live', 'rolled_back', 'retired']),
    checksum: z.string().regex(/^[a-f0-9]{64}$/).optional(),
  })
  .superRefine(keyMustEqual('modelName'));

/** Versioned topic names. The `.dlq` suffix names each topic's dead-letter topic. */
export const TOPICS = {
  catalogItems: 'catalog.items',
  userBehaviors: 'user.behaviors',
  feedImpressions: 'feed.impressions',
  feedFeedback: 'feed.feedback',
  adsEvents: 'ads.events',
  modelsLifecycle: 'models.lifecycle',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const topicSchemas = {
  'catalog.items': catalogItemEvent,
  'user.behaviors': userBehaviorEvent,
  'feed.impressions': feedImpressionEvent,
  'feed.feedback': feedFeedbackEvent,
  'ads.events': adEvent,
  'models.lifecycle': modelLifecycleEvent,
} as const;

export type EventOf<T extends TopicName> = z.output<(typeof topicSchemas)[T]>;
export type EventInput<T extends TopicName> = z.input<(typeof topicSchemas)[T]>;
export type CatalogItemEvent = EventOf<'catalog.items'>;
export type UserBehaviorEvent = EventOf<'user.behaviors'>;
export type FeedImpressionEvent = EventOf<'feed.impressions'>;
export type FeedFeedbackEvent = EventOf<'feed.feedback'>;
export type AdEvent = EventOf<'ads.events'>;
export type ModelLifecycleEvent = EventOf<'models.lifecycle'>;

export const dlqTopic = (topic: string) => `${topic}.dlq`;
export const ALL_TOPICS: TopicName[] = Object.values(TOPICS);
