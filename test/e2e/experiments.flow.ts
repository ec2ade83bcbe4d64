// Shared traffic for the experiments specs (embedded, Kafka/PostgreSQL, Chromium): a seeded
// stream of feed impressions and feedback for users assigned through POST /v1/assignments,
// with the per-variant figures the results must show, computed here from what was sent.
import type { EventInput } from '@recsys/contracts';
import { rng } from '@recsys/experiments/testing/synthetic';
import { postJson } from '../support/suite';

export const ADMIN = 'experiments-admin-token-0123456789';
export const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
export const DAY0 = Date.UTC(2026, 10, 2, 12, 0, 0);
const DAY = 24 * 3600 * 1000;

export async function adminPost(url: string, body: unknown, method = 'POST') {
  const res = await fetch(url, { method, headers: auth, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
}

export interface Produce {
  (topic: 'feed.impressions', events: EventInput<'feed.impressions'>[]): Promise<void>;
  (topic: 'feed.feedback', events: EventInput<'feed.feedback'>[]): Promise<void>;
  (topic: 'ads.events', events: EventInput<'ads.events'>[]): Promise<void>;
}

export interface Expected {
  users: Record<string, number>;
  clicks: Record<string, number>;
  items: Record<string, number>;
  impressions: EventInput<'feed.impressions'>[];
  feedback: EventInput<'feed.feedback'>[];
}

/**
 * Every user fetches the feed on `days` days (after a pre-period day without the experiment):
 * 10 items a fetch, 1 of them an ad with a logged ad-load decision; the treatment clicks with
 * `ctr * (1 + lift)`. Feedback of a third of the users is produced before their impressions.
 */
export async function runTraffic(opts: {
  experimentsUrl: string;
  experiment: string;
  users: number;
  days?: number;
  ctr?: number;
  lift?: number;
  seed?: number;
  prefix?: string;
  produce: Produce;
}): Promise<Expected> {
  const r = rng(opts.seed ?? 1);
  const days = opts.days ?? 3;
  const ctr = opts.ctr ?? 0.1;
  const exp: Expected = { users: {}, clicks: {}, items: {}, impressions: [], feedback: [] };
  const prefix = opts.prefix ?? 'u';
  const early: EventInput<'feed.feedback'>[] = [];
  for (let u = 0; u < opts.users; u++) {
    const userId = `${prefix}-${u}`;
    const a = await postJson(`${opts.experimentsUrl}/v1/assignments`, { userId, attributes: { surface: 'home' } });
    const variant = (a.body.assignments as Array<{ experiment: string; variant: string }>).find((x) => x.experiment === opts.experiment)?.variant;
    // Pre-period activity (no experiment yet): CUPED's covariate.
    const preReq = `${userId}-pre`;
    exp.impressions.push(impression(userId, preReq, DAY0 - DAY, {}, 0));
    if (r() < 0.5) exp.feedback.push(click(userId, preReq, DAY0 - DAY + 1000, 0));
    if (!variant) continue;
    exp.users[variant] = (exp.users[variant] ?? 0) + 1;
    const p = variant === 'control' ? ctr : ctr * (1 + (opts.lift ?? 0));
    const beforeImpression = u % 3 === 0;
    for (let d = 0; d < days; d++) {
      const req = `${userId}-d${d}`;
      const ts = DAY0 + d * DAY + u;
      const slots = r() < 0.5 ? 1 : 2;
      exp.impressions.push(impression(userId, req, ts, { [opts.experiment]: variant }, slots));
      exp.items[variant] = (exp.items[variant] ?? 0) + 10;
      for (let i = 0; i < 10; i++) {
        if (r() < p) {
          const fb = click(userId, req, ts + 1000 + i, i);
          exp.clicks[variant] = (exp.clicks[variant] ?? 0) + 1;
          if (beforeImpression && d === 0) early.push(fb);
          else exp.feedback.push(fb);
        }
      }
    }
  }
  // Early feedback (before its impression reached the consumer), then the rest in order.
  if (early.length) await opts.produce('feed.feedback', early);
  await opts.produce('feed.impressions', exp.impressions);
  await opts.produce('feed.feedback', exp.feedback);
  exp.feedback.push(...early);
  return exp;

  function impression(userId: string, requestId: string, ts: number, variants: Record<string, string>, adSlots: number): EventInput<'feed.impressions'> {
    return {
      eventId: `imp-${requestId}`,
      key: userId,
      timestamp: ts,
      schemaVersion: 1,
      requestId,
      userId,
      surface: 'home',
      items: Array.from({ length: 10 }, (_, i) => ({ itemId: `it-${i}`, position: i, isAd: i === 3 })),
      variants,
      ...(adSlots ? { adLoad: { policyId: 'logging-uniform', adSlots, propensity: 0.5 } } : {}),
    };
  }
  function click(userId: string, requestId: string, ts: number, i: number): EventInput<'feed.feedback'> {
    return { eventId: `clk-${requestId}-${i}`, key: userId, timestamp: ts, schemaVersion: 1, requestId, userId, itemId: `it-${i}`, type: 'click' };
  }
}
