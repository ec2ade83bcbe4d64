import type { AdEvent, FeedFeedbackEvent } from '@recsys/contracts';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';

/** The additive change one event makes to its request's outcome row. */
export interface OutcomeDelta {
  eventId: string;
  requestId: string;
  clicks: number;
  hides: number;
  dwellMs: number;
  adClicks: number;
  revenueMicros: number;
}

/** feed.feedback -> clicks, hides, dwell of the fetch (requestId); undefined when it names no fetch. */
export function feedbackDelta(e: FeedFeedbackEvent): OutcomeDelta | undefined {
  if (!e.requestId) return undefined;
  const d: OutcomeDelta = { eventId: `ff:${e.eventId}`, requestId: e.requestId, clicks: 0, hides: 0, dwellMs: 0, adClicks: 0, revenueMicros: 0 };
  if (e.type === 'click') d.clicks = 1;
  else if (e.type === 'hide') d.hides = 1;
  else if (e.type === 'dwell') d.dwellMs = Math.max(0, e.value ?? 0);
  else return undefined;
  return d;
}

/** ads.events -> ad clicks and revenue (billed `spend` amounts) of the fetch. */
export function adDelta(e: AdEvent): OutcomeDelta | undefined {
  if (!e.requestId) return undefined;
  const d: OutcomeDelta = { eventId: `ad:${e.eventId}`, requestId: e.requestId, clicks: 0, hides: 0, dwellMs: 0, adClicks: 0, revenueMicros: 0 };
  if (e.type === 'click') d.adClicks = 1;
  else if (e.type === 'spend') d.revenueMicros = e.amountMicros ?? 0;
  else return undefined;
  return d;
}

/**
 * Applies deltas exactly once: the event ids go into adload_outcome_events in the same transaction
 * as the additive update, and only the ids that were new are applied. Replaying a topic (or a
 * redelivered batch) changes nothing.
 */
export async function applyOutcomes(sql: SqlDatabase, deltas: OutcomeDelta[]): Promise<number> {
  if (deltas.length === 0) return 0;
  // One delta per event id within the batch.
  const uniq = [...new Map(deltas.map((d) => [d.eventId, d])).values()];
  return sql.transaction(async (tx) => {
    const fresh = await tx.query<{ event_id: string }>(`INSERT INTO adload_outcome_events (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id`, [
      uniq.map((d) => d.eventId),
    ]);
    const ok = new Set(fresh.rows.map((r) => r.event_id));
    const apply = uniq.filter((d) => ok.has(d.eventId));
    if (apply.length === 0) return 0;
    const byReq = new Map<string, OutcomeDelta>();
    for (const d of apply) {
      const t = byReq.get(d.requestId);
      if (!t) byReq.set(d.requestId, { ...d });
      else {
        t.clicks += d.clicks;
        t.hides += d.hides;
        t.dwellMs += d.dwellMs;
        t.adClicks += d.adClicks;
        t.revenueMicros += d.revenueMicros;
      }
    }
    const rows = [...byReq.values()];
    await tx.query(
      `INSERT INTO adload_outcomes (request_id, clicks, hides, dwell_ms, ad_clicks, revenue_micros)
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::float8[], $5::int[], $6::bigint[])
       ON CONFLICT (request_id) DO UPDATE SET clicks = adload_outcomes.clicks + excluded.clicks, hides = adload_outcomes.hides + excluded.hides,
         dwell_ms = adload_outcomes.dwell_ms + excluded.dwell_ms, ad_clicks = adload_outcomes.ad_clicks + excluded.ad_clicks,
         revenue_micros = adload_outcomes.revenue_micros + excluded.revenue_micros, updated_at = now()`,
      [rows.map((r) => r.requestId), rows.map((r) => r.clicks), rows.map((r) => r.hides), rows.map((r) => r.dwellMs), rows.map((r) => r.adClicks), rows.map((r) => r.revenueMicros)],
    );
    return apply.length;
  });
}
