/**
 * bench:adload: the ad-load learning loop on a simulated content marketplace (bench/adload/sim.ts),
 * and the serving figures of apps/adload (decide latency in process, decision logging into real
 * PostgreSQL).
 *
 *   npm run bench:adload -- [--seeds 5] [--days 3] [--per-day 20000] [--lambda 10] [--lambdas 2,5,10,20,50]
 *     [--truth-samples 100000] [--decides 100000] [--log-rows 200000] [--database-url URL | --no-pg] [--out bench/results/adload.json]
 *
 * Per seed: uniform-random logging for --days simulated days, then one learning step (the app's
 * learner: tabular reward model, per-context DR values, every estimator, the DR lower bound and
 * the satisfaction guardrail against the logging policy as the live one). Reported: the learned
 * policy's true objective (expected outcomes over --truth-samples fresh contexts) against the best
 * fixed density and the logging policy, 95% intervals over seeds; whether the guardrail held in
 * truth; each estimator's relative error against the truth for every evaluated policy; and the
 * satisfaction / revenue Pareto front of learned policies as lambda varies (seed 1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { ESTIMATORS, mean, sampleSd } from '@recsys/ope';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { migrate } from '@recsys/infra/sql/migrate';
import { createLogger, type AppContext } from '@recsys/platform';
import { AdloadService } from '../../apps/adload/src/adload.service';
import { loadAdloadConfig } from '../../apps/adload/src/adload.config';
import { learn, type LoggedRound } from '../../apps/adload/src/domain/learner';
import { actionProbabilities, uniformParams, type PolicyParams } from '../../apps/adload/src/domain/policy';
import { cli, count, int, list, num, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg } from '../common/plot';
import { summarize } from '../common/stats';
import { ACTIONS, Marketplace, type SimContext } from './sim';

const USAGE = `usage: npm run bench:adload -- [--seeds 5] [--days 3] [--per-day 20000] [--lambda 10] [--lambdas 2,5,10,20,50]
  [--truth-samples 100000] [--decides 100000] [--log-rows 200000] [--database-url URL | --no-pg] [--out bench/results/adload.json]`;
const ROOT = resolve(__dirname, '..', '..', '..');
const A = ACTIONS.length;
const EPS = 0.1;
const TOL = 0.01;

interface Truth {
  objective: number;
  satisfaction: number;
  revenue: number;
}

function truthOf(p: PolicyParams, contexts: SimContext[], lambda: number): Truth {
  let s = 0;
  let r = 0;
  const probs = new Float64Array(A);
  for (const c of contexts) {
    actionProbabilities(p, c.key, A, probs);
    for (let a = 0; a < A; a++) {
      const e = Marketplace.expected(c, ACTIONS[a]);
      s += probs[a] * e.satisfaction;
      r += probs[a] * e.revenue;
    }
  }
  s /= contexts.length;
  r /= contexts.length;
  return { objective: s + lambda * r, satisfaction: s, revenue: r };
}

/** Pure fixed density (no exploration floor), the baseline the paper compares with. */
const fixed = (a: number): PolicyParams => ({ temperature: 0, epsilon: 0, values: {}, defaults: ACTIONS.map((_, b) => (b === a ? 1 : 0)) });

function simulateSeed(seed: number, days: number, perDay: number, lambda: number, truthSamples: number) {
  const m = new Marketplace(seed);
  const rounds: LoggedRound[] = [];
  for (let i = 0; i < days * perDay; i++) {
    const c = m.context();
    const a = Math.min(A - 1, Math.floor(m.uniform() * A));
    const o = m.outcome(c, ACTIONS[a]);
    rounds.push({ contextKey: c.key, action: a, propensity: 1 / A, satisfaction: o.satisfaction, revenue: o.revenue });
  }
  const truthCtx = new Marketplace(seed + 10_000);
  const contexts = Array.from({ length: truthSamples }, () => truthCtx.context());
  const logging = uniformParams(A, EPS, 1);
  const t0 = performance.now();
  const res = learn(rounds, logging, { nActions: A, lambda, epsilon: EPS, temperature: 0.02, tolerance: TOL, bootstrapResamples: 0 });
  const learnMs = performance.now() - t0;
  const truths = {
    logging: truthOf(logging, contexts, lambda),
    fixed: ACTIONS.map((_, a) => truthOf(fixed(a), contexts, lambda)),
    candidates: Object.fromEntries(res.candidates.map((c) => [c.name, truthOf(c.params, contexts, lambda)])),
  };
  const bestFixed = truths.fixed.reduce((b, t, a) => (t.objective > truths.fixed[b].objective ? a : b), 0);
  const learned = res.winner ? truths.candidates[res.winner.name] : truths.logging;
  // Relative error of every estimator for every evaluated policy (objective), against the truth.
  const relErr: Record<string, number[]> = Object.fromEntries(ESTIMATORS.map((e) => [e, []]));
  for (const p of [res.live, ...res.candidates]) {
    const t = p.name === 'live' ? truths.logging : truths.candidates[p.name];
    for (const e of ESTIMATORS) relErr[e].push(Math.abs(p.estimators[e].objective.value - t.objective) / Math.abs(t.objective));
  }
  return {
    seed,
    rounds: rounds.length,
    learnMs,
    winner: res.winner?.name ?? null,
    reason: res.reason,
    learned,
    logging: truths.logging,
    bestFixed: { ads: ACTIONS[bestFixed], ...truths.fixed[bestFixed] },
    fixed: truths.fixed.map((t, a) => ({ ads: ACTIONS[a], ...t })),
    guardrailHeldInTruth: learned.satisfaction >= truths.logging.satisfaction - TOL,
    relativeError: Object.fromEntries(ESTIMATORS.map((e) => [e, mean(relErr[e])])),
    candidates: res.candidates.map((c) => ({ name: c.name, guardrailOk: c.guardrailOk, decision: c.decision, truth: truths.candidates[c.name] })),
  };
}

const ci95 = (xs: number[]) => {
  const m = mean(xs);
  const h = xs.length > 1 ? (1.96 * sampleSd(xs)) / Math.sqrt(xs.length) : 0;
  return { mean: m, lower: m - h, upper: m + h };
};

async function serving(url: string, decides: number, logRows: number) {
  const admin = new PgSqlDatabase(url, 2);
  const schema = `bench_adload_${process.pid}_${Date.now().toString(36)}`;
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const sql = new PgSqlDatabase(u.toString(), 4);
  try {
    await migrate(sql);
    const ctx = { name: 'adload', infra: { sql }, log: createLogger('silent'), metrics: new Registry(), subscriptions: [], shutdownHooks: [] } as unknown as AppContext;
    const svc = new AdloadService(ctx, loadAdloadConfig({ ADLOAD_BATCH_SIZE: '5000', ADLOAD_FLUSH_MS: '50', ADLOAD_LEARN_INTERVAL_MS: '0' }));
    await svc.refreshLive();
    // Decide latency in process (the request path: context, policy, draw, enqueue to the log writer).
    const lat = new Float64Array(decides);
    const now = Date.now();
    for (let i = 0; i < decides; i++) {
      const t = process.hrtime.bigint();
      svc.decide({ userId: `u${i % 5000}`, surface: 'home', sessionFetchIndex: i % 7, context: { segment: i % 3 ? 'casual' : 'heavy', adTolerance: (i % 10) / 10 } }, now + i);
      lat[i] = Number(process.hrtime.bigint() - t) / 1e6;
    }
    await svc.writer.flush();
    // Logging throughput: rows pushed as fast as decide makes them, until all are in PostgreSQL.
    const t0 = performance.now();
    for (let i = 0; i < logRows; i++) svc.decide({ userId: `w${i % 20000}`, surface: 'home', sessionFetchIndex: i % 7 }, now + 1000 + i);
    await svc.writer.flush();
    const secs = (performance.now() - t0) / 1000;
    const n = await sql.query<{ n: string }>('SELECT count(*) AS n FROM adload_decisions');
    return {
      decideMs: summarize(lat),
      logging: { rows: logRows, seconds: secs, decisionsPerSecond: logRows / secs, rowsInTable: Number(n.rows[0].n), failed: svc.writer.failed, batchSize: 5000 },
    };
  } finally {
    await sql.close();
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
}

async function main() {
  const args = cli(
    process.argv.slice(2),
    {
      seeds: { type: 'string' },
      days: { type: 'string' },
      'per-day': { type: 'string' },
      lambda: { type: 'string' },
      lambdas: { type: 'string' },
      'truth-samples': { type: 'string' },
      decides: { type: 'string' },
      'log-rows': { type: 'string' },
      'database-url': { type: 'string' },
      'no-pg': { type: 'boolean' },
      out: { type: 'string' },
    },
    USAGE,
  );
  const start = machine();
  const seeds = int(args.seeds, '--seeds', 5);
  const days = int(args.days, '--days', 3);
  const perDay = int(args['per-day'], '--per-day', 20_000);
  const lambda = num(args.lambda, '--lambda', 10);
  const lambdas = [0, ...list(args.lambdas?.replace(/^0,/, ''), '--lambdas', [2, 5, 10, 20, 50])];
  const truthSamples = int(args['truth-samples'], '--truth-samples', 100_000);
  const decides = count(args.decides, '--decides', 100_000);
  const logRows = count(args['log-rows'], '--log-rows', 200_000);
  const out = resolve(args.out ?? join(ROOT, 'bench', 'results', 'adload.json'));

  const perSeed: ReturnType<typeof simulateSeed>[] = [];
  for (let s = 1; s <= seeds; s++) {
    const r = simulateSeed(s, days, perDay, lambda, truthSamples);
    process.stderr.write(
      `seed ${s}: winner ${r.winner}, learned ${r.learned.objective.toFixed(4)} vs best fixed (${r.bestFixed.ads} ads) ${r.bestFixed.objective.toFixed(4)}, logging ${r.logging.objective.toFixed(4)}\n`,
    );
    perSeed.push(r);
  }
  const learnedCi = ci95(perSeed.map((r) => r.learned.objective));
  const bestFixedCi = ci95(perSeed.map((r) => r.bestFixed.objective));
  const loggingCi = ci95(perSeed.map((r) => r.logging.objective));
  const pareto = lambdas.map((l) => {
    const r = simulateSeed(1, days, perDay, l, Math.min(truthSamples, 50_000));
    return { lambda: l, winner: r.winner, satisfaction: r.learned.satisfaction, revenue: r.learned.revenue, guardrailHeldInTruth: r.guardrailHeldInTruth };
  });
  const fixedPoints = perSeed[0].fixed.map((f) => ({ ads: f.ads, satisfaction: f.satisfaction, revenue: f.revenue }));
  let serve: Awaited<ReturnType<typeof serving>> | undefined;
  if (!args['no-pg']) {
    const url = args['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://recsys:recsys@127.0.0.1:15432/recsys';
    serve = await serving(url, decides, logRows);
    process.stderr.write(`decide p50 ${serve.decideMs.p50.toFixed(4)} ms p99 ${serve.decideMs.p99.toFixed(4)} ms; logging ${serve.logging.decisionsPerSecond.toFixed(0)} decisions/s\n`);
  }
  const result = {
    command: `npm run bench:adload -- ${process.argv.slice(2).join(' ')}`.trim(),
    data: { simulator: 'bench/adload/sim.ts (synthetic marketplace)', seeds, days, decisionsPerDay: perDay, lambda, truthSamples, epsilon: EPS, guardrailTolerance: TOL },
    machine: machine({}, start),
    summary: {
      learned: learnedCi,
      bestFixed: bestFixedCi,
      logging: loggingCi,
      learnedBeatsBestFixedNonOverlapping: learnedCi.lower > bestFixedCi.upper,
      guardrailHeldInTruthEverySeed: perSeed.every((r) => r.guardrailHeldInTruth),
      meanRelativeError: Object.fromEntries(ESTIMATORS.map((e) => [e, mean(perSeed.map((r) => r.relativeError[e]))])),
    },
    perSeed,
    pareto: { learned: pareto, fixed: fixedPoints },
    serving: serve,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 1));
  writeSvg(out.replace(/\.json$/, '.svg'), {
    title: 'Ad-load learned off-policy on a simulated marketplace',
    subtitle: `${seeds} seeds x ${days * perDay} uniform-random decisions, lambda ${lambda}; true values`,
    panels: [
      {
        title: 'true objective per seed',
        x: { name: 'seed', type: 'category' },
        y: {
          name: 'objective (satisfaction + lambda revenue)',
          min: Math.floor(Math.min(...perSeed.map((r) => r.logging.objective)) * 100 - 1) / 100,
          max: Math.ceil(Math.max(...perSeed.map((r) => r.learned.objective)) * 100 + 1) / 100,
        },
        series: [
          { name: 'learned', kind: 'scatter', points: perSeed.map((r) => ({ x: String(r.seed), y: r.learned.objective })) },
          { name: 'best fixed density', kind: 'scatter', points: perSeed.map((r) => ({ x: String(r.seed), y: r.bestFixed.objective, label: `${r.bestFixed.ads} ads` })) },
          { name: 'logging (uniform)', kind: 'scatter', points: perSeed.map((r) => ({ x: String(r.seed), y: r.logging.objective })) },
        ],
      },
      {
        title: 'mean relative error vs truth',
        x: { name: 'estimator', type: 'category' },
        y: { name: 'relative error', type: 'linear' },
        series: [{ name: 'relative error', kind: 'bar', points: ESTIMATORS.map((e) => ({ x: e, y: result.summary.meanRelativeError[e] })) }],
      },
      {
        title: 'satisfaction / revenue as lambda varies',
        x: { name: 'revenue per fetch' },
        y: { name: 'satisfaction per fetch' },
        series: [
          { name: 'learned (lambda)', kind: 'line', points: pareto.map((p) => ({ x: p.revenue, y: p.satisfaction, label: `λ=${p.lambda}` })) },
          { name: 'fixed densities', kind: 'scatter', points: fixedPoints.map((f) => ({ x: f.revenue, y: f.satisfaction, label: `${f.ads} ads` })) },
        ],
      },
    ],
  });
  process.stdout.write(`${JSON.stringify({ out, summary: result.summary, serving: serve && { decideP99Ms: serve.decideMs.p99, decisionsPerSecond: serve.logging.decisionsPerSecond } })}\n`);
}

if (require.main === module) runMain(main);
