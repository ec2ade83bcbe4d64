import { z } from 'zod';
import { entityId, envelope, finiteNumber, keyMustEqual } from './envelope';
import { embeddingSchema, NAMESPACE_PATTERN } from './embedding';

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** catalog.items: item and ad upserts/deletes, keyed by itemId, per namespace (`items`, `ads`, ...). */
export const catalogItemEvent = z
  .object({
    ...envelope,
    op: z.enum(['upsert', 'delete']),
    namespace: z.string().regex(NAMESPACE_PATTERN, 'lowercase letters, digits, - and _'),
    itemId: entityId,
    group: z.string().min(1).max(200).optional(),
    embedding: embeddingSchema.optional(),
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

/** Stages of a feed fetch that can degrade (take their fallback) in the gateway. */
export const feedStages = ['experiments', 'history', 'retrieval', 'ranking', 'slates', 'adload', 'ads'] as const;
export type FeedStage = (typeof feedStages)[number];

/**
 * feed.impressions: one feed response as shown, with propensities and experiment variants, keyed by userId.
 *
 * Record version 2 (`recordVersion: 2`, additive: every field after `adLoad` is optional, so version-1
 * records still validate and version-1 readers, which ignore unknown keys, keep working) makes it the
 * one decision record of the fetch: the candidates considered with their scores, the slate policy,
 * per-slot propensities, the ad-load decision with its propensity, auction prices, model and policy
 * versions, the variants, and the stages that degraded. `schemaVersion` (the envelope) stays 1.
 */
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
          /** Item: probability the slate policy put it at this slot. Ad: the ad-load decision's propensity. */
          propensity: z.number().gt(0).max(1).optional(),
          // --- record version 2 (optional) ---
          /** The item's group (catalog `group`). */
          group: z.string().max(200).optional(),
          /** Slate policy's sampled score for this slot. */
          sampledScore: finiteNumber.optional(),
          /** Ads: campaign, auction price (per impression, in the campaign currency) and eCPM. */
          campaignId: z.string().max(200).optional(),
          price: finiteNumber.optional(),
          eCPM: finiteNumber.optional(),
        }),
      )
      .max(1000),
    variants: z.record(z.string(), z.string()).default({}),
    adLoad: z
      .object({
        policyId: z.string(),
        adSlots: z.number().int().nonnegative(),
        propensity: z.number().gt(0).max(1),
        // --- record version 2 (optional) ---
        decisionId: z.string().max(200).optional(),
        /** Positions (0-based, in the merged page) the decision chose for ads. */
        positions: z.array(z.number().int().nonnegative()).max(1000).optional(),
        /** Ads actually filled (fewer than adSlots when the auction had too few eligible ads). */
        filled: z.number().int().nonnegative().optional(),
        sessionFetchIndex: z.number().int().nonnegative().optional(),
      })
      .optional(),
    // --- record version 2 (all optional) ---
    /** 1 (or absent): items/variants/adLoad only; 2: the full decision record below. */
    recordVersion: z.number().int().min(1).max(2).optional(),
    domain: z.string().max(100).optional(),
    /** Every candidate the ranking stage considered (retrieved, after exclusions), best first. */
    candidates: z
      .array(
        z.object({
          itemId: entityId,
          retrievalScore: finiteNumber.optional(),
          /** pCTR from ranking (absent when ranking degraded). */
          score: finiteNumber.optional(),
          group: z.string().max(200).optional(),
        }),
      )
      .max(5000)
      .optional(),
    /** The slate stage's decision (absent when it degraded: the ranked order was served). */
    slate: z
      .object({
        requestId: z.string().max(200).optional(),
        policyId: z.string().max(200),
        size: z.number().int().nonnegative(),
      })
      .optional(),
    /** Versions that produced the fetch: ranking model, slate and ad-load policies. */
    versions: z
      .object({
        rankingModel: z.string().max(200).optional(),
        rankingModelVersion: z.string().max(200).optional(),
        slatePolicy: z.string().max(200).optional(),
        adLoadPolicy: z.string().max(200).optional(),
        retrieval: z.string().max(200).optional(),
      })
      .optional(),
    /** Stages that took their fallback in this fetch (empty = the full plan was served). */
    degraded: z.array(z.enum(feedStages)).optional(),
    /** Fraction of the plan's stages served without fallback, 0..1 (Vespa's coverage). */
    coverage: z.number().min(0).max(1).optional(),
    /** Where the items came from: retrieval, or the popular-items fallback. */
    source: z.enum(['retrieval', 'popular']).optional(),
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
    type: z.enum(['impression', 'click', 'conversion', 'spend', 'campaign_upsert', 'campaign_pause', 'campaign_archive']),
    userId: entityId.optional(),
    requestId: z.string().optional(),
    amountMicros: z.number().int().nonnegative().optional(),
    /** The fill's tracking token (apps/ads): names the reservation a billing event settles. */
    token: z.string().min(1).max(1000).optional(),
  })
  .superRefine(keyMustEqual('adId'));

/** models.lifecycle: registry changes every ranking replica follows, keyed by model name. */
export const modelLifecycleEvent = z
  .object({
    ...envelope,
    modelName: entityId,
    version: z.string().min(1).max(100),
    action: z.enum(['registered', 'promoted_shadow', 'promoted_live', 'rolled_back', 'retired']),
    checksum: z
      .string()
      .regex(/^[a-f0-9]{64}$/)
      .optional(),
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
