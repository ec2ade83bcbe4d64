/**
 * npm run bench:ads -- [--out bench/results/ads.json] [--campaigns 1000] [--requests 400000]
 *   [--eligible 100] [--slots 3] [--seed 1] [--auction-iterations 20000] [--fill-requests 2000] [--skip-fill]
 *
 * 1. One simulated day (bench/ads/day.ts) with a diurnal traffic curve and `campaigns` campaigns
 *    (mixed budgets, bids, true CTRs), paced (PID on the learned traffic profile) against an
 *    unpaced auction and plain probabilistic throttling: budget utilisation of the campaigns whose
 *    eligible traffic exceeds their budget (those that exhaust it unpaced), hourly spend error
 *    against the target curve, overspend (must be 0), platform revenue.
 * 2. Auction latency in process: 200 eligible ads, 3 slots, GSP and VCG.
 * 3. POST /v1/ads/fill latency in process with the retrieval and ranking apps (bench/ads/fill.ts).
 * Writes the JSON and SVG plots next to --out.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hourlyTargets, poisson, runAuction, seededRandom, spendError, TrafficProfile, diurnalShares, type AuctionBid } from '@recsys/ads';
import { cli, int, names, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg } from '../common/plot';
import { mean, median, quantile, summarize } from '../common/stats';
import { makeCampaigns, simulateDay, type DayResult, type Mode } from './day';
import { benchFill } from './fill';

const USAGE = `usage: npm run bench:ads -- [--out bench/results/ads.json] [--campaigns 1000] [--requests 400000] [--eligible 100]
  [--slots 3] [--seed 1] [--modes unpaced,paced,throttle] [--auction-iterations 20000] [--fill-requests 2000] [--fill-concurrency 1] [--fill-ranking-isolation worker|inline] [--skip-fill]
  [--step 1 (pacing step, simulated minutes)] [--pacing kp=8,ki=4,gateSlack=0,... (controller options)] [--gate on|off] [--participation random|deterministic]
  [--error-floor 10 (billing events)] [--skip-day (latency sections only)] [--skip-auction]`;

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

async function main() {
  const args = cli(
    process.argv.slice(2),
    {
      out: { type: 'string', default: 'bench/results/ads.json' },
      campaigns: { type: 'string' },
      requests: { type: 'string' },
      eligible: { type: 'string' },
      slots: { type: 'string' },
      seed: { type: 'string' },
      modes: { type: 'string' },
      'auction-iterations': { type: 'string' },
      'fill-requests': { type: 'string' },
      'fill-concurrency': { type: 'string' },
      'fill-ranking-isolation': { type: 'string' },
      'skip-fill': { type: 'boolean', default: false },
      'skip-day': { type: 'boolean', default: false },
      'skip-auction': { type: 'boolean', default: false },
      pacing: { type: 'string' },
      step: { type: 'string' },
      gate: { type: 'string', default: 'on' },
      participation: { type: 'string', default: 'random' },
      'error-floor': { type: 'string' },
    },
    USAGE,
  );
  const start = machine();
  const o = {
    campaigns: int(args.campaigns, '--campaigns', 1000),
    requests: int(args.requests, '--requests', 400_000),
    eligible: int(args.eligible, '--eligible', 100),
    slots: int(args.slots, '--slots', 3),
    seed: int(args.seed, '--seed', 1),
    auctionIterations: int(args['auction-iterations'], '--auction-iterations', 20_000),
    fillRequests: int(args['fill-requests'], '--fill-requests', 2000),
    fillConcurrency: int(args['fill-concurrency'], '--fill-concurrency', 1),
  };
  const modes = names(args.modes, '--modes', ['unpaced', 'paced', 'throttle'] as const, ['unpaced', 'paced', 'throttle']);
  if (!modes.includes('unpaced')) modes.unshift('unpaced'); // defines the budget-limited campaigns
  const out = args.out!;

  // ---- 1. the day (skipped with --skip-day: the latency sections alone, e.g. under the benchmark lock) ----
  const day = args['skip-day'] ? null : await runDay(o, modes, args);

  // ---- 2. auction latency: 200 eligible ads x 3 slots ----
  const ar = seededRandom(o.seed + 7);
  const sets: AuctionBid[][] = Array.from({ length: 64 }, (_, s) =>
    Array.from({ length: 200 }, (_, i) => {
      const cpc = ar() < 0.5;
      return { adId: `a${s}-${i}`, campaignId: `c${s}-${i}`, bidType: cpc ? 'cpc' : 'cpm', bid: cpc ? 0.1 + ar() : 1 + 10 * ar(), pctr: 0.001 + 0.05 * ar() } as AuctionBid;
    }),
  );
  // 5 rounds: on a shared machine a round's p99 is mostly preemption; the rounds' p99s show how much.
  const auction: Record<string, ReturnType<typeof summarize> & { roundP99s: number[] }> = {};
  for (const mechanism of args['skip-auction'] ? [] : (['gsp', 'vcg'] as const)) {
    for (let i = 0; i < 2000; i++) runAuction(sets[i % 64], { slots: 3, reserveEcpm: 0.5, mechanism, tieSeed: i });
    const us: number[] = [];
    const roundP99s: number[] = [];
    const perRound = Math.ceil(o.auctionIterations / 5);
    for (let round = 0; round < 5; round++) {
      const r: number[] = [];
      for (let i = 0; i < perRound; i++) {
        const t0 = process.hrtime.bigint();
        runAuction(sets[i % 64], { slots: 3, reserveEcpm: 0.5, mechanism, tieSeed: i });
        r.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      roundP99s.push(r4(quantile(r, 0.99)));
      us.push(...r);
    }
    auction[mechanism] = { ...summarize(us), roundP99s };
    console.log(`# auction ${mechanism}: p50 ${auction[mechanism].p50.toFixed(1)} us, p99 ${auction[mechanism].p99.toFixed(1)} us, rounds' p99 ${roundP99s.join(' ')}`);
  }

  // ---- 3. fill latency with retrieval and ranking ----
  const fill = args['skip-fill']
    ? null
    : await benchFill({
        campaigns: o.campaigns,
        requests: o.fillRequests,
        candidates: 200,
        slots: 3,
        concurrency: o.fillConcurrency,
        seed: o.seed,
        rankingIsolation: names(args['fill-ranking-isolation'] as string | undefined, '--fill-ranking-isolation', ['worker', 'inline'] as const, ['worker'])[0],
      });
  if (fill)
    console.log(
      `# fill in process: p50 ${fill.latencyMs.p50.toFixed(2)} ms, p99 ${fill.latencyMs.p99.toFixed(2)} ms; over HTTP: p50 ${fill.httpLatencyMs.p50.toFixed(2)} ms, p99 ${fill.httpLatencyMs.p99.toFixed(2)} ms; ${fill.adsPerFill.toFixed(2)} ads/fill`,
    );

  const perMode = day?.perMode ?? {};
  const pacedFigures = perMode.paced as { budgetLimited: { utilisation: { mean: number }; hourlySpendError: { aggregate: number; meanOfCampaigns: number } } } | undefined;
  const result = {
    command: `npm run bench:ads -- ${process.argv.slice(2).join(' ')}`.trim(),
    data: {
      kind: 'synthetic',
      campaigns: o.campaigns,
      requestsPerDay: o.requests,
      eligiblePerRequest: o.eligible,
      slots: o.slots,
      seed: o.seed,
      day: day
        ? {
            reserveEcpm: day.dayOpts.reserveEcpm,
            pacingStepMinutes: day.dayOpts.stepMinutes,
            pacingOptions: day.dayOpts.pacing,
            spendGate: day.dayOpts.gate,
            participation: day.dayOpts.deterministic ? 'deterministic (error diffusion)' : 'random (coin flip at the rate)',
            cpcClickWindowMinutes: day.dayOpts.clickWindowMinutes,
            errorFloorBillingEvents: day.errorFloor,
          }
        : 'skipped (--skip-day)',
      traffic: 'diurnal intensity (libs/ads simulation.ts: night trough, 12:30 and 20:30 peaks), Poisson requests per minute',
      profile: 'learned from a simulated previous day (Poisson hourly counts of the same curve), 2% uniform mix',
      campaignsMix: 'half CPC (bid log-normal median 0.5, CTR log-normal median 2%), half CPM (median 8); budgets log-normal (sigma 0.9); pCTR = true CTR x log-normal noise (sigma 0.3)',
      budgetLimited: 'campaigns whose eligible traffic exceeds their budget: in the unpaced run they have spent 98% of it before 20:00',
      hourlyError: {
        perCampaign:
          'e_c = sum_h |spend_h - target_h| / sum_h target_h over the 24 hours of campaign c (target_h = budget x learned profile share of hour h): the mean of |spend_h - target_h| / target_h over its hours weighted by target; meanOfCampaigns = plain mean of e_c over the budget-limited campaigns (each campaign counts alike)',
        budgetWeighted: 'sum_c budget_c e_c / sum_c budget_c: the money mis-timed per unit of money (a budget-limited campaign spends ~its budget, so this is the spend-weighted mean)',
        campaignHoursAboveFloor: 'mean of |spend_h - target_h| / target_h over the campaign-hours whose target is at least --error-floor billing events (clicks for CPC, impressions for CPM)',
        aggregate: 'the same as e_c on the sum of the budget-limited campaigns',
        noise:
          'a campaign with k billing events in an hour has a Poisson floor of about 1/sqrt(k) on that hour under throttling alone; the spend gate bounds it from above by one billing event plus the slack',
      },
    },
    machine: machine({}, start),
    figures: {
      day: day ? perMode : null,
      revenue: day?.revenue ?? null,
      auctionLatencyUs: auction.gsp ? { ads: 200, slots: 3, iterations: o.auctionIterations, ...auction } : null,
      fill,
      targets: {
        overspendZero: day ? modes.every((m) => day.days[m]!.overspendMicros === 0) : null,
        utilisationAtLeast98: pacedFigures ? pacedFigures.budgetLimited.utilisation.mean >= 0.98 : null,
        hourlyErrorAtMost10Aggregate: pacedFigures ? pacedFigures.budgetLimited.hourlySpendError.aggregate <= 0.1 : null,
        hourlyErrorAtMost10MeanOfCampaigns: pacedFigures ? pacedFigures.budgetLimited.hourlySpendError.meanOfCampaigns <= 0.1 : null,
        auctionP99AtMost1ms: auction.gsp ? auction.gsp.p99 <= 1000 : null,
        auctionBestRoundP99AtMost1ms: auction.gsp ? Math.min(...auction.gsp.roundP99s) <= 1000 : null,
        fillP99AtMost10ms: fill ? fill.latencyMs.p99 <= 10 : null,
      },
    },
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  if (day) plots(out, perMode as Record<string, { aggregateHourly: { actual: number[]; target: number[] } }>, day.days, day.campaigns, day.limited, day.shares);
  console.log(JSON.stringify(result.figures.targets));
  console.log(`wrote ${out}`);
}

async function runDay(o: { campaigns: number; requests: number; eligible: number; slots: number; seed: number }, modes: Mode[], args: Record<string, string | boolean | undefined>) {
  // The traffic profile is learned from "yesterday": Poisson hourly impression counts of the same curve.
  const truth = diurnalShares();
  const rand = seededRandom(o.seed + 1000);
  const profile = new TrafficProfile({ minObservations: 1 });
  for (let h = 0; h < 24; h++) profile.observe('yesterday', (h + 0.5) / 24, poisson(rand, truth[h] * o.requests * 0.5));
  profile.observe('today', 0, 0);
  const shares = profile.shares();
  // Budgets: median = a campaign's fair share of a day's revenue x 0.5, log-normal (sigma 0.9).
  const campaigns = makeCampaigns(o.campaigns, o.seed, (o.requests * o.slots * 0.006) / o.campaigns);
  // --pacing kp=8,ki=4,... overrides the controller's defaults (for tuning runs)
  const pacing = Object.fromEntries(
    ((args.pacing as string | undefined) ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => {
        const [k, v] = kv.split('=');
        return [k, Number(v)];
      }),
  );
  const dayOpts = {
    requests: o.requests,
    eligiblePerRequest: o.eligible,
    slots: o.slots,
    reserveEcpm: 0.5,
    stepMinutes: int(args.step as string | undefined, '--step', 5),
    clickWindowMinutes: 2,
    profileShares: shares,
    seed: o.seed,
    pacing,
    gate: names(args.gate as string | undefined, '--gate', ['on', 'off'] as const, ['on'])[0] === 'on',
    deterministic: names(args.participation as string | undefined, '--participation', ['random', 'deterministic'] as const, ['random'])[0] === 'deterministic',
  };
  // Campaign-hours whose target is at least this many billing events enter the floored hourly error.
  const errorFloor = int(args['error-floor'] as string | undefined, '--error-floor', 10);
  const days: Partial<Record<Mode, DayResult>> = {};
  for (const mode of modes) {
    const r = await simulateDay(campaigns, mode, dayOpts);
    days[mode] = r;
    console.log(`# ${mode}: revenue ${(r.revenueMicros / 1e6).toFixed(0)}, wins ${r.wins}, overspend ${r.overspendMicros}, ${(r.elapsedMs / 1000).toFixed(1)} s`);
  }
  // Budget-limited: campaigns whose eligible traffic exceeds their budget: unpaced, they have spent 98% of it
  // before 20:00 (so their traffic of the day buys at least ~1.2 budgets).
  const limited = campaigns
    .map((_, i) => i)
    .filter((i) => {
      let cum = 0;
      for (let h = 0; h < 20; h++) cum += days.unpaced!.hourlySpend[i * 24 + h];
      return cum >= 0.98 * campaigns[i].budgetMicros;
    });
  const perMode = Object.fromEntries(
    modes.map((mode) => {
      const r = days[mode]!;
      const util = limited.map((i) => r.spentMicros[i] / campaigns[i].budgetMicros);
      const errs = limited.map((i) => spendError(Array.from(r.hourlySpend.subarray(i * 24, i * 24 + 24)), hourlyTargets(campaigns[i].budgetMicros, shares)).weighted);
      // cumulative tracking: mean over the hours of |spent so far - target so far| / budget
      const cumErrs = limited.map((i) => {
        const t = hourlyTargets(campaigns[i].budgetMicros, shares);
        let a = 0;
        let b = 0;
        let sum = 0;
        for (let h = 0; h < 24; h++) {
          a += r.hourlySpend[i * 24 + h];
          b += t[h];
          sum += Math.abs(a - b) / campaigns[i].budgetMicros;
        }
        return sum / 24;
      });
      // budget-weighted (= spend-weighted: a budget-limited campaign spends ~its budget) mean of the per-campaign errors
      const weighted = limited.reduce((a, i, k) => a + errs[k] * campaigns[i].budgetMicros, 0) / limited.reduce((a, i) => a + campaigns[i].budgetMicros, 0);
      // campaign-hours whose target is at least `errorFloor` billing events: mean of |actual - target| / target
      const floored: number[] = [];
      for (const i of limited) {
        const t = hourlyTargets(campaigns[i].budgetMicros, shares);
        const unit = campaigns[i].bidType === 'cpc' ? campaigns[i].bid * 1e6 : campaigns[i].bid * 1e3;
        for (let h = 0; h < 24; h++) if (t[h] >= errorFloor * unit) floored.push(Math.abs(r.hourlySpend[i * 24 + h] - t[h]) / t[h]);
      }
      const eventsPerDay = limited.map((i) => campaigns[i].budgetMicros / (campaigns[i].bidType === 'cpc' ? campaigns[i].bid * 1e6 : campaigns[i].bid * 1e3));
      const byEvents = [
        [0, 24],
        [24, 100],
        [100, 300],
        [300, 1000],
        [1000, Infinity],
      ].map(([lo, hi]) => {
        const ks = limited.map((_, k) => k).filter((k) => eventsPerDay[k] >= lo && eventsPerDay[k] < hi);
        return {
          billingEventsPerDay: hi === Infinity ? `>= ${lo}` : `${lo}-${hi}`,
          campaigns: ks.length,
          cpc: ks.filter((k) => campaigns[limited[k]].bidType === 'cpc').length,
          meanError: ks.length ? r4(mean(ks.map((k) => errs[k]))) : null,
          meanUtilisation: ks.length ? r4(mean(ks.map((k) => util[k]))) : null,
        };
      });
      const events = limited.map((i) => (campaigns[i].bidType === 'cpc' ? campaigns[i].budgetMicros / (campaigns[i].bid * 1e6) : campaigns[i].budgetMicros / ((campaigns[i].bid * 1e6) / 1000)));
      const aggActual = new Array(24).fill(0);
      const aggTarget = new Array(24).fill(0);
      for (const i of limited) {
        const t = hourlyTargets(campaigns[i].budgetMicros, shares);
        for (let h = 0; h < 24; h++) {
          aggActual[h] += r.hourlySpend[i * 24 + h];
          aggTarget[h] += t[h];
        }
      }
      return [
        mode,
        {
          revenue: r4(r.revenueMicros / 1e6),
          wins: r.wins,
          clicks: r.clicks,
          requests: r.requests,
          auctions: r.auctions,
          overspend: r.overspendMicros / 1e6,
          overspentCampaigns: r.overspentCampaigns,
          budgetLimited: {
            campaigns: limited.length,
            utilisation: { mean: r4(mean(util)), p10: r4(quantile(util, 0.1)), min: r4(Math.min(...util)), atLeast98: r4(util.filter((u) => u >= 0.98).length / util.length) },
            hourlySpendError: {
              aggregate: r4(spendError(aggActual, aggTarget).weighted),
              meanOfCampaigns: r4(mean(errs)),
              budgetWeightedMeanOfCampaigns: r4(weighted),
              meanOfCampaignsWithAtLeast100BillingEvents: eventsPerDay.some((e) => e >= 100) ? r4(mean(errs.filter((_, k) => eventsPerDay[k] >= 100))) : null,
              campaignsWithAtLeast100BillingEvents: eventsPerDay.filter((e) => e >= 100).length,
              byBillingEventsPerDay: byEvents,
              medianOfCampaigns: r4(median(errs)),
              campaignHoursAboveFloor: { floorBillingEvents: errorFloor, hours: floored.length, ofHours: limited.length * 24, meanRelative: floored.length ? r4(mean(floored)) : null },
              p90OfCampaigns: r4(quantile(errs, 0.9)),
              meanOfCampaignsWithAtLeast2400BillingEvents: events.some((e) => e >= 2400) ? r4(mean(errs.filter((_, k) => events[k] >= 2400))) : null,
              campaignsWithAtLeast2400BillingEvents: events.filter((e) => e >= 2400).length,
            },
            cumulativeTrackingError: { meanOfCampaigns: r4(mean(cumErrs)), medianOfCampaigns: r4(median(cumErrs)) },
          },
          allCampaignsUtilisation: r4(r.revenueMicros / campaigns.reduce((s, c) => s + c.budgetMicros, 0)),
          simulatedInSeconds: r4(r.elapsedMs / 1000),
          aggregateHourly: { actual: aggActual.map((x) => r4(x / 1e6)), target: aggTarget.map((x) => r4(x / 1e6)) },
        },
      ];
    }),
  );
  const paced = perMode.paced as { revenue: number } | undefined;
  const revenue = {
    pacedVsUnpaced: paced ? r4(paced.revenue / (perMode.unpaced as { revenue: number }).revenue) : null,
    pacedVsThrottle: paced && perMode.throttle ? r4(paced.revenue / (perMode.throttle as { revenue: number }).revenue) : null,
  };

  return { perMode, revenue, days, campaigns, limited, shares, dayOpts, errorFloor };
}

function plots(
  out: string,
  perMode: Record<string, { aggregateHourly: { actual: number[]; target: number[] } }>,
  days: Partial<Record<Mode, DayResult>>,
  campaigns: ReturnType<typeof makeCampaigns>,
  limited: number[],
  shares: number[],
) {
  const base = join(
    dirname(out),
    out
      .split('/')
      .pop()!
      .replace(/\.json$/, ''),
  );
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const cum = (xs: number[]) => {
    let c = 0;
    return xs.map((x) => (c += x));
  };
  const target = perMode.unpaced.aggregateHourly.target;
  writeSvg(`${base}-spend.svg`, {
    title: 'Budget-limited campaigns: spend by hour against the target curve',
    subtitle: `${limited.length} of ${campaigns.length} campaigns; one simulated day`,
    panels: [
      {
        title: 'hourly spend',
        x: { name: 'hour' },
        y: { name: 'spend' },
        series: [
          { name: 'target', kind: 'line', points: hours.map((h) => ({ x: h, y: target[h] })) },
          ...Object.entries(perMode).map(([m, r]) => ({ name: m, kind: 'line' as const, points: hours.map((h) => ({ x: h, y: r.aggregateHourly.actual[h] })) })),
        ],
      },
      {
        title: 'cumulative spend',
        x: { name: 'hour' },
        y: { name: 'spend' },
        series: [
          { name: 'target', kind: 'line', points: cum(target).map((y, h) => ({ x: h, y })) },
          ...Object.entries(perMode).map(([m, r]) => ({ name: m, kind: 'line' as const, points: cum(r.aggregateHourly.actual).map((y, h) => ({ x: h, y })) })),
        ],
      },
    ],
  });
  // one sample budget-limited campaign (the median budget among them)
  const sorted = [...limited].sort((a, b) => campaigns[a].budgetMicros - campaigns[b].budgetMicros);
  const c = sorted[Math.floor(sorted.length / 2)];
  if (c !== undefined) {
    const t = hourlyTargets(campaigns[c].budgetMicros / 1e6, shares);
    writeSvg(`${base}-campaign.svg`, {
      title: `Campaign ${campaigns[c].id} (${campaigns[c].bidType}, budget ${(campaigns[c].budgetMicros / 1e6).toFixed(2)})`,
      panels: [
        {
          title: 'hourly spend',
          x: { name: 'hour' },
          y: { name: 'spend' },
          series: [
            { name: 'target', kind: 'line', points: hours.map((h) => ({ x: h, y: t[h] })) },
            ...Object.entries(days).map(([m, r]) => ({ name: m, kind: 'line' as const, points: hours.map((h) => ({ x: h, y: r!.hourlySpend[c * 24 + h] / 1e6 })) })),
          ],
        },
      ],
    });
  }
}

runMain(main);
