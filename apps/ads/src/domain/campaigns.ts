/** Campaigns and creatives in SQL (PostgreSQL or PGlite). Money in micros inside, currency units outside. */
import { randomBytes } from 'node:crypto';
import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';
import type { BidType } from '@recsys/ads';
import type { CreateCampaignRequest, CreativeRequest, Targeting, UpdateCampaignRequest } from '../api/dto';

export type CampaignStatus = 'active' | 'paused' | 'archived';

export interface Campaign {
  id: string;
  name: string;
  status: CampaignStatus;
  bidType: BidType;
  bidMicros: number;
  dailyBudgetMicros: number;
  totalBudgetMicros: number | null;
  startAt: number | null;
  endAt: number | null;
  timeZone: string;
  targeting: Targeting;
  frequencyCap: number | null;
  priorCtr: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Creative {
  id: string;
  campaignId: string;
  title: string;
  clickUrl: string | null;
  embedding: number[];
  status: 'active' | 'archived';
  updatedAt: string;
}

export const toMicros = (x: number) => Math.round(x * 1e6);
export const fromMicros = (m: number) => m / 1e6;
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());
const obj = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

const CAMPAIGN_COLUMNS =
  'id, name, status, bid_type, bid_micros, daily_budget_micros, total_budget_micros, start_at, end_at, time_zone, targeting, frequency_cap, prior_ctr, version, created_at, updated_at';

function campaignOf(r: Record<string, unknown>): Campaign {
  return {
    id: r.id as string,
    name: r.name as string,
    status: r.status as CampaignStatus,
    bidType: r.bid_type as BidType,
    bidMicros: Number(r.bid_micros),
    dailyBudgetMicros: Number(r.daily_budget_micros),
    totalBudgetMicros: r.total_budget_micros === null ? null : Number(r.total_budget_micros),
    startAt: ms(r.start_at),
    endAt: ms(r.end_at),
    timeZone: r.time_zone as string,
    targeting: obj(r.targeting) as Targeting,
    frequencyCap: r.frequency_cap === null ? null : Number(r.frequency_cap),
    priorCtr: Number(r.prior_ctr),
    version: Number(r.version),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

function creativeOf(r: Record<string, unknown>): Creative {
  return {
    id: r.id as string,
    campaignId: r.campaign_id as string,
    title: r.title as string,
    clickUrl: (r.click_url as string | null) ?? null,
    embedding: obj(r.embedding) as number[],
    status: r.status as 'active' | 'archived',
    updatedAt: iso(r.updated_at)!,
  };
}

export function campaignView(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    bidType: c.bidType,
    bid: fromMicros(c.bidMicros),
    dailyBudget: fromMicros(c.dailyBudgetMicros),
    totalBudget: c.totalBudgetMicros === null ? null : fromMicros(c.totalBudgetMicros),
    startAt: c.startAt === null ? null : new Date(c.startAt).toISOString(),
    endAt: c.endAt === null ? null : new Date(c.endAt).toISOString(),
    timeZone: c.timeZone,
    targeting: c.targeting,
    frequencyCap: c.frequencyCap,
    priorCtr: c.priorCtr,
    version: c.version,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function creativeView(c: Creative) {
  return { id: c.id, campaignId: c.campaignId, title: c.title, clickUrl: c.clickUrl, dim: c.embedding.length, status: c.status, updatedAt: c.updatedAt };
}

export class CampaignConflict extends Error {}

export class CampaignRepository {
  constructor(private readonly sql: SqlDatabase) {}

  async create(req: CreateCampaignRequest): Promise<Campaign> {
    const id = req.id ?? `cmp_${randomBytes(8).toString('hex')}`;
    try {
      const r = await this.sql.query(
        `INSERT INTO ad_campaigns (id, name, status, bid_type, bid_micros, daily_budget_micros, total_budget_micros, start_at, end_at, time_zone, targeting, frequency_cap, prior_ctr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13) RETURNING ${CAMPAIGN_COLUMNS}`,
        [
          id,
          req.name,
          req.status,
          req.bidType,
          toMicros(req.bid),
          toMicros(req.dailyBudget),
          req.totalBudget == null ? null : toMicros(req.totalBudget),
          req.startAt ?? null,
          req.endAt ?? null,
          req.timeZone,
          JSON.stringify(req.targeting ?? {}),
          req.frequencyCap ?? null,
          req.priorCtr,
        ],
      );
      return campaignOf(r.rows[0]);
    } catch (e) {
      if (/duplicate key|unique constraint/i.test((e as Error).message)) throw new CampaignConflict(`campaign '${id}' exists`);
      throw e;
    }
  }

  async get(id: string, tx: SqlExecutor = this.sql): Promise<Campaign | null> {
    const r = await tx.query(`SELECT ${CAMPAIGN_COLUMNS} FROM ad_campaigns WHERE id = $1`, [id]);
    return r.rows[0] ? campaignOf(r.rows[0]) : null;
  }

  async list(): Promise<Campaign[]> {
    const r = await this.sql.query(`SELECT ${CAMPAIGN_COLUMNS} FROM ad_campaigns ORDER BY created_at, id`);
    return r.rows.map(campaignOf);
  }

  /** Applies the changes; null when the campaign does not exist. Archived campaigns are read-only (caller checks). */
  async update(id: string, u: UpdateCampaignRequest & { status?: CampaignStatus }): Promise<Campaign | null> {
    return this.sql.transaction(async (tx) => {
      const cur = await this.get(id, tx);
      if (!cur) return null;
      const next = {
        name: u.name ?? cur.name,
        status: u.status ?? cur.status,
        bid_type: u.bidType ?? cur.bidType,
        bid_micros: u.bid !== undefined ? toMicros(u.bid) : cur.bidMicros,
        daily_budget_micros: u.dailyBudget !== undefined ? toMicros(u.dailyBudget) : cur.dailyBudgetMicros,
        total_budget_micros: u.totalBudget === undefined ? cur.totalBudgetMicros : u.totalBudget === null ? null : toMicros(u.totalBudget),
        start_at: u.startAt === undefined ? (cur.startAt === null ? null : new Date(cur.startAt).toISOString()) : u.startAt,
        end_at: u.endAt === undefined ? (cur.endAt === null ? null : new Date(cur.endAt).toISOString()) : u.endAt,
        time_zone: u.timeZone ?? cur.timeZone,
        targeting: JSON.stringify(u.targeting ?? cur.targeting),
        frequency_cap: u.frequencyCap === undefined ? cur.frequencyCap : u.frequencyCap,
        prior_ctr: u.priorCtr ?? cur.priorCtr,
      };
      const r = await tx.query(
        `UPDATE ad_campaigns SET name = $2, status = $3, bid_type = $4, bid_micros = $5, daily_budget_micros = $6, total_budget_micros = $7,
           start_at = $8, end_at = $9, time_zone = $10, targeting = $11::jsonb, frequency_cap = $12, prior_ctr = $13,
           version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING ${CAMPAIGN_COLUMNS}`,
        [id, ...Object.values(next)],
      );
      return campaignOf(r.rows[0]);
    });
  }

  async upsertCreative(campaignId: string, creativeId: string, req: CreativeRequest): Promise<{ creative: Creative; created: boolean }> {
    const r = await this.sql.query(
      `INSERT INTO ad_creatives (id, campaign_id, title, click_url, embedding) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, click_url = EXCLUDED.click_url, embedding = EXCLUDED.embedding, status = 'active', updated_at = now()
         WHERE ad_creatives.campaign_id = EXCLUDED.campaign_id
       RETURNING id, campaign_id, title, click_url, embedding, status, updated_at, (xmax = 0) AS created`,
      [creativeId, campaignId, req.title, req.clickUrl ?? null, JSON.stringify(req.embedding)],
    );
    if (!r.rows[0]) throw new CampaignConflict(`creative '${creativeId}' belongs to another campaign`);
    return { creative: creativeOf(r.rows[0]), created: Boolean(r.rows[0].created) };
  }

  async creatives(campaignId?: string): Promise<Creative[]> {
    const r = campaignId
      ? await this.sql.query(`SELECT id, campaign_id, title, click_url, embedding, status, updated_at FROM ad_creatives WHERE campaign_id = $1 ORDER BY id`, [campaignId])
      : await this.sql.query(`SELECT id, campaign_id, title, click_url, embedding, status, updated_at FROM ad_creatives ORDER BY id`);
    return r.rows.map(creativeOf);
  }

  async archiveCreatives(campaignId: string): Promise<void> {
    await this.sql.query(`UPDATE ad_creatives SET status = 'archived', updated_at = now() WHERE campaign_id = $1`, [campaignId]);
  }

  async recordFills(rows: FillRecord[]): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const values = rows.map((f, i) => {
      params.push(f.requestId, f.adId, f.campaignId, f.userId, f.surface, f.position, f.slot, f.bidType, f.priceMicros, f.ecpm, f.pctr, f.token, new Date(f.at).toISOString());
      const b = i * 13;
      return `(${Array.from({ length: 13 }, (_, j) => `$${b + j + 1}`).join(', ')})`;
    });
    await this.sql.query(
      `INSERT INTO ad_fills (request_id, ad_id, campaign_id, user_id, surface, position, slot, bid_type, price_micros, ecpm, pctr, token, created_at)
       VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`,
      params,
    );
  }

  async fills(requestId: string): Promise<FillRecord[]> {
    const r = await this.sql.query(`SELECT * FROM ad_fills WHERE request_id = $1 ORDER BY slot`, [requestId]);
    return r.rows.map((x) => ({
      requestId: x.request_id as string,
      adId: x.ad_id as string,
      campaignId: x.campaign_id as string,
      userId: x.user_id as string,
      surface: x.surface as string,
      position: Number(x.position),
      slot: Number(x.slot),
      bidType: x.bid_type as BidType,
      priceMicros: Number(x.price_micros),
      ecpm: Number(x.ecpm),
      pctr: Number(x.pctr),
      token: x.token as string,
      at: new Date(x.created_at as string).getTime(),
    }));
  }
}

export interface FillRecord {
  requestId: string;
  adId: string;
  campaignId: string;
  userId: string;
  surface: string;
  position: number;
  slot: number;
  bidType: BidType;
  priceMicros: number;
  ecpm: number;
  pctr: number;
  token: string;
  at: number;
}
