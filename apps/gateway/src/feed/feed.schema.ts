import { z } from 'zod';
import { feedStages } from '@recsys/contracts';

/** The response of GET /v1/feed, for OpenAPI (the service builds it; this documents it). */
export const feedResponse = z.object({
  requestId: z.string(),
  userId: z.string(),
  surface: z.string(),
  domain: z.string(),
  items: z.array(
    z.object({
      itemId: z.string(),
      position: z.number().int(),
      isAd: z.boolean(),
      score: z.number().optional().describe('pCTR (retrieval score when ranking degraded)'),
      propensity: z.number().describe('probability the slate policy put this item here (ads: the ad-load decision propensity)'),
      group: z.string().optional(),
      adId: z.string().optional(),
      campaignId: z.string().optional(),
      price: z.number().optional(),
      eCPM: z.number().optional(),
      adToken: z.string().optional().describe('ads: the ads service token to send back in ads.events impression/click (billing)'),
      trackingToken: z.string().describe('base64url JSON {r: requestId, u, i: itemId, p: position, q: propensity, a: isAd, v: variants, t} . HMAC'),
    }),
  ),
  variants: z.record(z.string(), z.string()),
  overrides: z.record(z.string(), z.unknown()),
  degraded: z.array(z.enum(feedStages)),
  degradedReasons: z.record(z.string(), z.enum(['timeout', 'breaker_open', 'unavailable', 'http_error', 'bad_response', 'not_found'])),
  coverage: z.number().min(0).max(1),
  source: z.enum(['retrieval', 'popular']),
  slatePolicy: z.string(),
  adLoad: z.object({ decisionId: z.string(), policyId: z.string(), adSlots: z.number().int(), positions: z.array(z.number().int()), propensity: z.number(), filled: z.number().int() }).optional(),
  versions: z.object({ rankingModel: z.string().optional(), rankingModelVersion: z.string().optional(), slatePolicy: z.string().optional(), adLoadPolicy: z.string().optional() }),
  timingsMs: z.record(z.string(), z.number()),
});

export const feedResponseJsonSchema = z.toJSONSchema(feedResponse, { io: 'output', unrepresentable: 'any' }) as object;
