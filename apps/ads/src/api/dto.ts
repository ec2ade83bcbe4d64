import { z } from 'zod';

const id = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, . _ : - (starting with a letter or digit)');
/** Money in currency units, stored as integer micros (rounded to 6 decimals); at least one micro. */
const money = z.number().min(0.000001).max(1e9);
const isoTime = z.iso.datetime({ offset: true });
const list = z.array(z.string().min(1).max(200)).max(1000);

export const targeting = z
  .object({
    surfaces: list.optional(),
    segments: list.optional(),
    itemGroups: list.optional(),
  })
  .strict();
export type Targeting = z.output<typeof targeting>;

const campaignFields = {
  name: z.string().min(1).max(200),
  bidType: z.enum(['cpc', 'cpm']),
  /** CPC: per click; CPM: per thousand impressions. */
  bid: money,
  dailyBudget: money,
  totalBudget: money.nullable().optional(),
  startAt: isoTime.nullable().optional(),
  endAt: isoTime.nullable().optional(),
  /** An IANA time zone; an unknown one answers 422 unknown_time_zone. */
  timeZone: z.string().min(1).max(64),
  targeting: targeting.default({}),
  frequencyCap: z.number().int().positive().max(10_000).nullable().optional(),
  priorCtr: z.number().gt(0).max(1).default(0.01),
};

export const createCampaignRequest = z
  .object({ id: id.optional(), status: z.enum(['active', 'paused']).default('active'), ...campaignFields, timeZone: campaignFields.timeZone.default('UTC') })
  .strict();
export type CreateCampaignRequest = z.output<typeof createCampaignRequest>;

export const updateCampaignRequest = z
  .object({
    name: campaignFields.name.optional(),
    bidType: campaignFields.bidType.optional(),
    bid: money.optional(),
    dailyBudget: money.optional(),
    totalBudget: campaignFields.totalBudget,
    startAt: campaignFields.startAt,
    endAt: campaignFields.endAt,
    timeZone: campaignFields.timeZone.optional(),
    targeting: targeting.optional(),
    frequencyCap: campaignFields.frequencyCap,
    priorCtr: z.number().gt(0).max(1).optional(),
  })
  .strict();
export type UpdateCampaignRequest = z.output<typeof updateCampaignRequest>;

export const creativeRequest = z
  .object({
    title: z.string().max(500).default(''),
    clickUrl: z.url().max(2000).nullable().optional(),
    /** Checked like every embedding (libs/contracts): the ads namespace's dimension and the norm bound answer 422 with their own codes. */
    embedding: z.array(z.number().min(-1024).max(1024)).min(1).max(4096),
  })
  .strict();
export type CreativeRequest = z.output<typeof creativeRequest>;

export const fillRequest = z
  .object({
    userId: z.string().min(1).max(200),
    surface: z.string().min(1).max(100),
    /** Feed positions of the ad slots (the ad-load decision); the first is the best slot. */
    positions: z.array(z.number().int().nonnegative().max(10_000)).min(1).max(10).describe('distinct positions (a repeated one answers 422 duplicate_positions)'),
    context: z
      .object({
        requestId: z.string().min(1).max(200).optional(),
        segments: list.optional(),
        itemGroups: list.optional(),
      })
      .catchall(z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]))
      .optional(),
  })
  .strict();
export type FillRequest = z.output<typeof fillRequest>;

export const trackRequest = z
  .object({
    token: z.string().min(1).max(1000),
    type: z.enum(['impression', 'click', 'conversion']),
    /** Idempotency key of this event; replays with the same id change nothing. Default: derived from token + type. */
    eventId: z.string().min(1).max(200).optional(),
  })
  .strict();
export type TrackRequest = z.output<typeof trackRequest>;

export const deliveryQuery = z.object({ day: z.iso.date().optional() }).strict();

// ---- responses ----

export const campaignResponse = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'paused', 'archived']),
  bidType: z.enum(['cpc', 'cpm']),
  bid: z.number(),
  dailyBudget: z.number(),
  totalBudget: z.number().nullable(),
  startAt: z.string().nullable(),
  endAt: z.string().nullable(),
  timeZone: z.string(),
  targeting,
  frequencyCap: z.number().nullable(),
  priorCtr: z.number(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const creativeResponse = z.object({ id: z.string(), campaignId: z.string(), title: z.string(), clickUrl: z.string().nullable(), dim: z.number(), status: z.string(), updatedAt: z.string() });

export const fillResponse = z.object({
  requestId: z.string(),
  ads: z.array(
    z.object({
      adId: z.string(),
      campaignId: z.string(),
      position: z.number(),
      slot: z.number(),
      bidType: z.enum(['cpc', 'cpm']),
      /** Per click (CPC) or per thousand impressions (CPM), currency units. */
      price: z.number(),
      ecpm: z.number(),
      priceEcpm: z.number(),
      pctr: z.number(),
      token: z.string(),
    }),
  ),
  degraded: z.array(z.enum(['retrieval', 'ranking'])),
});
export type FillResponse = z.output<typeof fillResponse>;

export const deliveryResponse = z.object({
  campaignId: z.string(),
  day: z.string(),
  timeZone: z.string(),
  dailyBudget: z.number(),
  spent: z.number(),
  reserved: z.number(),
  impressions: z.number(),
  clicks: z.number(),
  ctr: z.number().nullable(),
  /** Conversions reported with a tracking token (ads.events), once per event id; never billed. */
  conversions: z.number(),
  /** Conversions per click. */
  conversionRate: z.number().nullable(),
  costPerConversion: z.number().nullable(),
  effectiveCpm: z.number().nullable(),
  lateBillingEvents: z.number(),
  pacingRate: z.number().nullable(),
  hours: z.array(
    z.object({
      hour: z.number(),
      spend: z.number(),
      targetSpend: z.number(),
      cumulativeSpend: z.number(),
      cumulativeTarget: z.number(),
      impressions: z.number(),
      clicks: z.number(),
      ctr: z.number().nullable(),
      conversions: z.number(),
      effectiveCpm: z.number().nullable(),
    }),
  ),
});

const json = (s: z.ZodType, io: 'input' | 'output' = 'input') => z.toJSONSchema(s, { io, unrepresentable: 'any' }) as object;
export const schemas = {
  createCampaign: json(createCampaignRequest),
  updateCampaign: json(updateCampaignRequest),
  creative: json(creativeRequest),
  fill: json(fillRequest),
  track: json(trackRequest),
  campaign: json(campaignResponse, 'output'),
  campaigns: json(z.array(campaignResponse), 'output'),
  creativeOut: json(creativeResponse, 'output'),
  fillOut: json(fillResponse, 'output'),
  delivery: json(deliveryResponse, 'output'),
};
