/**
 * One simulated day of ad serving: diurnal traffic, campaigns with mixed budgets, bids and true
 * CTRs, the auction of libs/ads, and the app's own budget ledger (apps/ads: the Lua scripts' twins
 * on the memory state store, driven by a simulated clock), under three policies:
 * - paced: the PID pacing controller on a target curve from the learned traffic profile;
 * - throttle: plain probabilistic throttling against a uniform-in-time plan;
 * - unpaced: every campaign bids whenever eligible until its budget is gone.
 * Each request: a random subset of campaigns is eligible (targeting), those past their throttle
 * bid (pCTR = true CTR x log-normal prediction noise), GSP with a reserve fills the slots, each
 * winner reserves its price; CPM impressions are billed at once, CPC clicks (true CTR) within the
 * click window, unclicked CPC reservations are released when the window ends.
 */
import { diurnalIntensity, logNormal, PacingController, type PacingOptions, poisson, ProbabilisticThrottle, runAuction, seededRandom, type AuctionBid, type BidType } from '@recsys/ads';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { amountMicros, BudgetLedger } from '../../apps/ads/src/domain/budget';

export type Mode = 'paced' | 'throttle' | 'unpaced';

export interface SimCampaign {
  id: string;
  bidType: BidType;
  bid: number;
  trueCtr: number;
  budgetMicros: number;
}

export interface DayOptions {
  requests: number;
  eligiblePerRequest: number;
  slots: number;
  reserveEcpm: number;
  /** Pacing control step, minutes. */
  stepMinutes: number;
  /** CPC click window (reservation lifetime), minutes. */
  clickWindowMinutes: number;
  /** Learned traffic profile: 24 hourly shares the target curve follows. */
  profileShares: number[];
  seed: number;
  /** Pacing controller options (gains, initial rate, gate slack); libs/ads defaults when absent. */
  pacing?: PacingOptions;
  /**
   * Paced mode: stop bidding once settled spend reaches the controller's allowance for the end of
   * the step (the spend gate; the spend view is updated at every billing event, as the app's local
   * view is by its own reservations and settlements). Default true.
   */
  gate?: boolean;
  /** Paced mode: participation by error diffusion (a campaign at rate 0.3 bids in 3 of 10 eligible requests) instead of a coin flip. Default false. */
  deterministic?: boolean;
  /** Called after each control step (minute, participation rates, spent + reserved micros). */
  trace?: (minute: number, rates: Float64Array, used: number[]) => void;
}

export interface DayResult {
  mode: Mode;
  revenueMicros: number;
  spentMicros: number[];
  /** campaigns x 24, micros */
  hourlySpend: Float64Array;
  /** Impression opportunities (filled slots) per hour: the realised traffic. */
  hourlyImpressions: number[];
  overspendMicros: number;
  overspentCampaigns: number;
  wins: number;
  clicks: number;
  requests: number;
  /** Minute of the day a campaign's reservation was first refused for budget (-1 never). */
  exhaustedAt: number[];
  auctions: number;
  elapsedMs: number;
}

export function makeCampaigns(n: number, seed: number, budgetMedian: number): SimCampaign[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const cpc = rand() < 0.5;
    const trueCtr = Math.min(0.2, logNormal(rand, 0.02, 0.5));
    const bid = cpc ? logNormal(rand, 0.5, 0.4) : logNormal(rand, 8, 0.4);
    // budgets: log-normal around the median; some far above what their traffic can buy
    const budget = logNormal(rand, budgetMedian, 0.9);
    return { id: `c${i}`, bidType: cpc ? 'cpc' : 'cpm', bid: Math.round(bid * 1e4) / 1e4, trueCtr, budgetMicros: Math.max(1000, Math.round(budget * 1e6)) };
  });
}

const DAY = '2030-01-01';
const T0 = Date.UTC(2030, 0, 1);

export async function simulateDay(campaigns: SimCampaign[], mode: Mode, o: DayOptions): Promise<DayResult> {
  const started = performance.now();
  const rand = seededRandom(o.seed);
  const store = new MemoryStateStore({ sweepIntervalMs: 3_600_000 });
  const ledger = new BudgetLedger(store);
  const n = campaigns.length;
  const pid = campaigns.map(() => new PacingController(o.pacing));
  const thr = campaigns.map(() => new ProbabilisticThrottle());
  const rate = new Float64Array(n).fill(1);
  const blocked = new Uint8Array(n);
  const gate = mode === 'paced' && o.gate !== false;
  const deterministic = mode === 'paced' && o.deterministic === true;
  const spentLive = new Float64Array(n);
  const allow = new Float64Array(n).fill(Infinity);
  const credit = new Float64Array(n);
  const billingAmount = campaigns.map((c) => (c.bidType === 'cpc' ? c.bid * 1e6 : c.bid * 1e3));
  const exhaustedAt = new Array<number>(n).fill(-1);
  const hourlySpend = new Float64Array(n * 24);
  const hourlyImpressions = new Array(24).fill(0);
  const cumShares = [0];
  for (let h = 0; h < 24; h++) cumShares.push(cumShares[h] + o.profileShares[h]);
  const F = (t: number) => {
    const x = t * 24;
    const h = Math.min(23, Math.floor(x));
    return Math.min(1, (cumShares[h] + o.profileShares[h] * (x - h)) / cumShares[24]);
  };
  // traffic per minute: the diurnal intensity, normalised to `requests` for the day
  const intensity = Array.from({ length: 1440 }, (_, m) => diurnalIntensity((m + 0.5) / 60));
  const iSum = intensity.reduce((a, b) => a + b, 0);
  const scheduled = new Map<number, { c: number; token: string; click: boolean }[]>();
  const schedule = (minute: number, e: { c: number; token: string; click: boolean }) => {
    const list = scheduled.get(minute) ?? [];
    list.push(e);
    scheduled.set(minute, list);
  };
  let wins = 0;
  let clicks = 0;
  let auctions = 0;
  let requests = 0;
  let tokenSeq = 0;
  const eligible: number[] = [];
  const drawn: number[] = [];
  const seen = new Uint8Array(n);

  for (let m = 0; m < 1440; m++) {
    const now = T0 + m * 60_000;
    const hour = Math.floor(m / 60);
    // billing events due now: clicks settle, unclicked CPC reservations end with the window
    for (const e of scheduled.get(m) ?? []) {
      const c = campaigns[e.c];
      if (e.click) {
        const r = await ledger.settle({ campaignId: c.id, day: DAY, token: e.token, eventId: `clk-${e.token}`, bill: true, impression: false, click: true, hour });
        if (r.status === 'billed') {
          hourlySpend[e.c * 24 + hour] += r.micros;
          spentLive[e.c] += r.micros;
          clicks++;
        }
      } else await ledger.release(c.id, DAY, e.token);
    }
    scheduled.delete(m);
    // Every minute, for every policy alike: which campaigns have no budget left (spent + reserved), as the
    // app's eligibility sees it; the controllers run every `stepMinutes`.
    {
      const usage = await ledger.usage(campaigns.map((c) => ({ campaignId: c.id, day: DAY })));
      const step = m % o.stepMinutes === 0;
      for (let i = 0; i < n; i++) {
        const budget = campaigns[i].budgetMicros;
        blocked[i] = usage[i].spent + usage[i].reserved >= budget ? 1 : 0;
        if (!step) continue;
        // both controllers follow settled spend (the app's choice: CPC reservations mostly expire unbilled)
        if (mode === 'paced') {
          rate[i] = pid[i].update({ targetFraction: F(m / 1440), spent: usage[i].spent, budget });
          spentLive[i] = usage[i].spent;
          if (gate) allow[i] = pid[i].allowance(F(Math.min(1440, m + o.stepMinutes) / 1440), budget, billingAmount[i]);
        } else if (mode === 'throttle') rate[i] = thr[i].update(m / 1440, usage[i].spent, budget);
      }
      if (step)
        o.trace?.(
          m,
          rate,
          usage.map((u) => u.spent + u.reserved),
        );
    }
    const nReq = poisson(rand, (o.requests * intensity[m]) / iSum);
    for (let q = 0; q < nReq; q++) {
      requests++;
      eligible.length = 0;
      drawn.length = 0;
      for (let k = 0; k < o.eligiblePerRequest; k++) {
        const c = Math.floor(rand() * n);
        if (seen[c]) continue;
        seen[c] = 1;
        drawn.push(c);
        if (blocked[c] || spentLive[c] >= allow[c]) continue;
        if (rate[c] >= 1) eligible.push(c);
        else if (deterministic) {
          credit[c] += rate[c];
          if (credit[c] >= 1) {
            credit[c] -= 1;
            eligible.push(c);
          }
        } else if (rand() < rate[c]) eligible.push(c);
      }
      for (const c of drawn) seen[c] = 0;
      if (eligible.length === 0) continue;
      let pool: AuctionBid[] = eligible.map((c) => ({
        adId: String(c),
        campaignId: String(c),
        bidType: campaigns[c].bidType,
        bid: campaigns[c].bid,
        pctr: Math.min(1, campaigns[c].trueCtr * Math.exp(0.3 * gaussianish(rand))),
      }));
      // as in the app: a winner whose reservation is refused leaves, and the auction runs again for the slots left
      let slotsLeft = o.slots;
      for (let round = 0; round < 3 && slotsLeft > 0 && pool.length > 0; round++) {
        auctions++;
        const winners = runAuction(pool, { slots: slotsLeft, reserveEcpm: o.reserveEcpm, tieSeed: requests });
        let refused = 0;
        const taken = new Set<string>();
        for (const w of winners) {
          taken.add(w.campaignId);
          const c = Number(w.campaignId);
          const camp = campaigns[c];
          const amount = amountMicros(w);
          const token = `t${tokenSeq++}`;
          const cpc = camp.bidType === 'cpc';
          const r = await ledger.reserve({
            campaignId: camp.id,
            day: DAY,
            token,
            amountMicros: amount,
            dailyBudgetMicros: camp.budgetMicros,
            totalBudgetMicros: null,
            userId: 'u',
            frequencyCap: null,
            expiresAt: now + (cpc ? o.clickWindowMinutes : 10) * 60_000,
            now,
          });
          if (r !== 'reserved') {
            refused++;
            blocked[c] = 1;
            if (exhaustedAt[c] < 0) exhaustedAt[c] = m;
            continue;
          }
          slotsLeft--;
          wins++;
          hourlyImpressions[hour]++;
          if (!cpc) {
            const st = await ledger.settle({ campaignId: camp.id, day: DAY, token, eventId: `imp-${token}`, bill: true, impression: true, click: false, hour });
            if (st.status === 'billed') {
              hourlySpend[c * 24 + hour] += st.micros;
              spentLive[c] += st.micros;
            }
          } else if (rand() < camp.trueCtr) {
            schedule(m + 1 + Math.floor(rand() * Math.max(1, o.clickWindowMinutes - 1)), { c, token, click: true });
          } else schedule(m + o.clickWindowMinutes, { c, token, click: false });
        }
        if (refused === 0) break;
        pool = pool.filter((b) => !taken.has(b.campaignId));
      }
    }
  }
  // the day ends: whatever is still reserved is released
  for (const [, list] of scheduled) for (const e of list) if (!e.click) await ledger.release(campaigns[e.c].id, DAY, e.token);
  const finalUsage = await ledger.usage(campaigns.map((c) => ({ campaignId: c.id, day: DAY })));
  const spentMicros = finalUsage.map((u) => u.spent);
  let overspend = 0;
  let overspent = 0;
  campaigns.forEach((c, i) => {
    const over = finalUsage[i].spent + finalUsage[i].reserved - c.budgetMicros;
    if (over > 0) {
      overspend += over;
      overspent++;
    }
  });
  await store.close();
  return {
    mode,
    revenueMicros: spentMicros.reduce((a, b) => a + b, 0),
    spentMicros,
    hourlySpend,
    hourlyImpressions,
    overspendMicros: overspend,
    overspentCampaigns: overspent,
    wins,
    clicks,
    requests,
    exhaustedAt,
    auctions,
    elapsedMs: performance.now() - started,
  };
}

/** A cheap standard-normal-ish draw (sum of 4 uniforms, rescaled): prediction noise only. */
function gaussianish(rand: () => number): number {
  return (rand() + rand() + rand() + rand() - 2) * Math.sqrt(3);
}
