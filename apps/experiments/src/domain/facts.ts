import type { AdEvent, FeedFeedbackEvent, FeedImpressionEvent } from '@recsys/contracts';
import type { UserTotals } from '@recsys/experiments';

/** What one event adds to a user's metrics (and to the user's daily activity, the CUPED pre-period). */
export interface Fact {
  eventId: string;
  userId: string;
  ts: number;
  /** UTC day of the event, YYYY-MM-DD. */
  day: string;
  deltas: Partial<UserTotals>;
  /** A feed fetch (counts an active day). */
  isFetch: boolean;
  /** feed.impressions: the experiment variants the fetch was served with (exposures). */
  variants?: Record<string, string>;
}

export interface AdloadLogOp {
  eventId: string;
  requestId: string;
  ts?: number;
  policyId?: string;
  adSlots?: number;
  propensity?: number;
  clicks?: number;
}

export const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);

export function impressionFact(e: FeedImpressionEvent): Fact {
  const adItems = e.items.reduce((n, it) => n + (it.isAd ? 1 : 0), 0);
  return {
    eventId: e.eventId,
    userId: e.userId,
    ts: e.timestamp,
    day: dayOf(e.timestamp),
    deltas: { fetches: 1, items: e.items.length, adItems },
    isFetch: true,
    variants: e.variants,
  };
}

/** click -> clicks; dwell -> dwell seconds (value in ms); conversion -> revenue (value, currency units). Others change no metric. */
export function feedbackFact(e: FeedFeedbackEvent): Fact | undefined {
  const deltas: Partial<UserTotals> = {};
  if (e.type === 'click') deltas.clicks = 1;
  else if (e.type === 'dwell') deltas.dwellSec = Math.max(0, e.value ?? 0) / 1000;
  else if (e.type === 'conversion') deltas.revenue = e.value ?? 0;
  else return undefined;
  return { eventId: e.eventId, userId: e.userId, ts: e.timestamp, day: dayOf(e.timestamp), deltas, isFetch: false };
}

/** ads.events `spend` of a known user -> revenue (amountMicros / 1e6). */
export function adFact(e: AdEvent): Fact | undefined {
  if (e.type !== 'spend' || !e.userId || !e.amountMicros) return undefined;
  return { eventId: e.eventId, userId: e.userId, ts: e.timestamp, day: dayOf(e.timestamp), deltas: { revenue: e.amountMicros / 1e6 }, isFetch: false };
}
