/**
 * bench:experiments — (1) assignment latency in process with 50 running experiments (and a sweep
 * over the number of experiments), (2) the time of a results request (variant sums + daily sums
 * from SQL, every metric's sequential test, Bayesian engine, CUPED, SRM, corrections, the daily
 * confidence sequence) for an experiment with 10 million exposures, and (3) the consumer's ingest
 * rate (events/s through MetricsStore.apply, one transaction per batch, idempotency ledger included).
 *
 *   npm run bench:experiments -- --out bench/results/experiments.json [--experiments 50]
 *     [--assignments 200000] [--exposures 10000000] [--days 28] [--results-runs 50]
 *     [--ingest-users 2000] [--database-url postgres://...]
 *
 * The results path reads only the per-variant and per-day sufficient statistics that the
 * consumers maintain incrementally, so its cost does not grow with the number of exposures; the
 * benchmark builds those statistics for --exposures synthetic users with the consumers' own fold
 * (sumsDelta, applyUserEvent's per-day form) and writes them, then times the request. Database:
 * PGlite (embedded) unless --database-url names a PostgreSQL (a fresh schema, dropped at the end).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Assigner, addSums, sumsDelta, zeroTotals, type ExperimentDef, type VariantSums } from '@recsys/experiments';
import { poisson, rng } from '@recsys/experiments/testing/synthetic';
import { migrate } from '@recsys/infra/sql/migrate';
import { PgliteSqlDatabase } from '@recsys/infra/sql/sql.pglite.adapter';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import type { AppContext } from '@recsys/platform';
import { ExperimentsService } from '../../apps/experiments/src/experiments.service';
import { dayOf, type Fact } from '../../apps/experiments/src/domain/facts';
import { cli, int, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg } from '../common/plot';
import { summarize } from '../common/stats';

const USAGE = `usage: npm run bench:experiments -- [--out bench/results/experiments.json] [--experiments 50] [--assignments 200000]
  [--exposures 10000000] [--days 28] [--results-runs 50] [--ingest-users 2000] [--database-url URL]`;

function experiments(n: number): ExperimentDef[] {
  const out: ExperimentDef[] = [];
  for (let i = 0; i < n; i++) {
    const layered = i % 5 !== 4; // 4 in 5 live in layers of 3
    const layerIdx = Math.floor(i / 3);
    out.push({
      key: `exp-${i}`,
      seed: `exp-${i}`,
      variants: Array.from({ length: 2 + (i % 3) }, (_, v) => ({ key: `v${v}`, weight: 1, overrides: { [`key${i % 7}`]: `value-${v}` } })),
      coverage: i % 4 === 0 ? 0.5 : 1,
      targeting: i % 3 === 0 ? { surfaces: ['home', 'video'] } : i % 3 === 1 ? { attributes: { tier: ['gold', 'silver'] } } : {},
      ...(layered ? { layer: { key: `layer-${layerIdx}`, range: [(i % 3) / 3, ((i % 3) + 1) / 3] as const } } : {}),
    });
  }
  return out;
}

function timeAssignments(n: number, calls: number) {
  const assigner = new Assigner(experiments(n), { seed: 'holdout', fraction: 0.05 }, { slatePolicy: 'default' });
  const surfaces = ['home', 'video', 'search'];
  const tiers = ['gold', 'silver', 'bronze'];
  const attrs = Array.from({ length: 64 }, (_, i) => ({ surface: surfaces[i % 3], tier: tiers[(i >> 2) % 3], domain: 'news' }));
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += assigner.assign(`warm-${i}`, attrs[i & 63]).assignments.length;
  const ns = new Float64Array(calls);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    const r = assigner.assign(`user-${i}`, attrs[i & 63]);
    ns[i] = Number(process.hrtime.bigint() - t0);
    sink += r.assignments.length;
  }
  const cpu = process.cpuUsage(cpu0);
  const us = Array.from(ns, (x) => x / 1000);
  // CPU time per call (user + system over the loop, timer reads included): what the call costs when
  // the process is not descheduled; wall-clock percentiles also include the machine's load.
  return { experiments: n, calls, meanAssignments: sink / (calls + 20_000), latencyUs: summarize(us), cpuUsPerCall: (cpu.user + cpu.system) / calls };
}

async function openDb(url?: string): Promise<{ db: SqlDatabase; kind: string; cleanup: () => Promise<void> }> {
  if (!url) {
    const db = await PgliteSqlDatabase.create();
    await migrate(db);
    return { db, kind: 'pglite', cleanup: () => db.close() };
  }
  const schema = `bench_exp_${process.pid}_${Date.now().toString(36)}`;
  const admin = new PgSqlDatabase(url, 1);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const db = new PgSqlDatabase(u.toString(), 4);
  await migrate(db);
  return {
    db,
    kind: 'postgresql',
    cleanup: async () => {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** Per-variant and per-day statistics of `exposures` synthetic users, folded with the consumers' sumsDelta. */
function foldUsers(exposures: number, days: number) {
  const r = rng(2026);
  const variants = ['control', 'treatment'];
  const total = variants.map(() => ({}) as VariantSums);
  const daily = variants.map(() => Array.from({ length: days }, () => ({}) as VariantSums));
  const t0 = performance.now();
  for (let u = 0; u < exposures; u++) {
    const v = r() < 0.5 ? 0 : 1;
    const day = Math.floor(r() * days);
    const t = zeroTotals();
    t.fetches = 1 + poisson(r, 3);
    t.items = 10 * t.fetches;
    t.adItems = t.fetches + (r() < 0.3 ? 1 : 0);
    t.clicks = poisson(r, t.items * (v ? 0.052 : 0.05));
    t.dwellSec = t.clicks * 20 * r();
    t.revenue = r() < 0.05 ? 5 * r() : 0;
    t.activeDays = 1 + (t.fetches > 2 ? 1 : 0);
    const pre = { preFetches: poisson(r, 3), preClicks: poisson(r, 1.5), preDwellSec: 30 * r(), preRevenue: r() < 0.05 ? 5 * r() : 0 };
    const d = sumsDelta(undefined, t, pre);
    addSums(total[v], d);
    addSums(daily[v][day], d);
  }
  return { variants, total, daily, foldMs: performance.now() - t0 };
}

async function timeResults(db: SqlDatabase, exposures: number, days: number, runs: number) {
  const svc = new ExperimentsService({ infra: { sql: db } } as unknown as AppContext);
  const key = 'bench-results';
  await svc.create({
    key,
    name: 'bench',
    description: '',
    variants: [
      { key: 'control', weight: 1, overrides: {} },
      { key: 'treatment', weight: 1, overrides: {} },
    ],
    coverage: 1,
    targeting: {},
    primaryMetric: 'ctr',
    start: false,
  });
  await db.query(`UPDATE experiments SET status = 'running' WHERE key = $1`, [key]);
  const f = foldUsers(exposures, days);
  const day0 = Date.UTC(2026, 9, 1);
  await db.query(`INSERT INTO exp_variant_sums (experiment_key, variant, sums) SELECT $1, v, s FROM jsonb_to_recordset($2::jsonb) AS x(v text, s jsonb)`, [
    key,
    JSON.stringify(f.variants.map((v, i) => ({ v, s: f.total[i] }))),
  ]);
  const rows = f.variants.flatMap((v, i) => f.daily[i].map((s, d) => ({ v, d: dayOf(day0 + d * 86_400_000), s })));
  await db.query(`INSERT INTO exp_daily_sums (experiment_key, variant, day, sums) SELECT $1, v, d, s FROM jsonb_to_recordset($2::jsonb) AS x(v text, d date, s jsonb)`, [key, JSON.stringify(rows)]);
  const q = { sequential: true, cuped: true, correction: 'holm' as const, alpha: 0.05 };
  let users = 0;
  for (let i = 0; i < 5; i++) await svc.results(key, q);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await svc.results(key, q);
    ms.push(performance.now() - t0);
    users = res.variants.reduce((s, v) => s + v.users, 0);
  }
  return { exposures: users, days, runs, foldUsersMs: f.foldMs, resultsMs: summarize(ms) };
}

async function timeIngest(db: SqlDatabase, users: number) {
  const svc = new ExperimentsService({ infra: { sql: db } } as unknown as AppContext);
  await svc.create({
    key: 'bench-ingest',
    name: 'ingest',
    description: '',
    variants: [
      { key: 'control', weight: 1, overrides: {} },
      { key: 'treatment', weight: 1, overrides: {} },
    ],
    coverage: 1,
    targeting: {},
    primaryMetric: 'ctr',
    start: true,
  });
  const r = rng(7);
  const facts: Fact[] = [];
  const t = Date.UTC(2026, 9, 1);
  for (let u = 0; u < users; u++) {
    for (let d = 0; d < 3; d++) {
      const ts = t + d * 86_400_000 + u;
      facts.push({
        eventId: `i-${u}-${d}`,
        userId: `bu-${u}`,
        ts,
        day: dayOf(ts),
        deltas: { fetches: 1, items: 10, adItems: 1 },
        isFetch: true,
        variants: { 'bench-ingest': u % 2 ? 'treatment' : 'control' },
      });
      for (let c = 0; c < 3; c++) if (r() < 0.5) facts.push({ eventId: `c-${u}-${d}-${c}`, userId: `bu-${u}`, ts: ts + 1000 + c, day: dayOf(ts), deltas: { clicks: 1 }, isFetch: false });
    }
  }
  facts.sort((a, b) => a.ts - b.ts);
  const batch = 2000;
  const t0 = performance.now();
  for (let i = 0; i < facts.length; i += batch) await svc.store.apply('bench-ingest', facts.slice(i, i + batch));
  const ms = performance.now() - t0;
  // Replay: every id is known, nothing changes.
  const t1 = performance.now();
  for (let i = 0; i < facts.length; i += batch) await svc.store.apply('bench-ingest', facts.slice(i, i + batch));
  const replayMs = performance.now() - t1;
  return { users, events: facts.length, batch, eventsPerSec: facts.length / (ms / 1000), replayEventsPerSec: facts.length / (replayMs / 1000) };
}

runMain(async () => {
  const a = cli(
    process.argv.slice(2),
    {
      out: { type: 'string', default: 'bench/results/experiments.json' },
      experiments: { type: 'string' },
      assignments: { type: 'string' },
      exposures: { type: 'string' },
      days: { type: 'string' },
      'results-runs': { type: 'string' },
      'ingest-users': { type: 'string' },
      'database-url': { type: 'string' },
    },
    USAGE,
  );
  const start = machine();
  const nExp = int(a.experiments, '--experiments', 50);
  const calls = int(a.assignments, '--assignments', 200_000);
  const exposures = int(a.exposures, '--exposures', 10_000_000);
  const days = int(a.days, '--days', 28);
  const runs = int(a['results-runs'], '--results-runs', 50);
  const ingestUsers = int(a['ingest-users'], '--ingest-users', 2000);

  const sweep = [1, 10, 25, 50, 100].map((n) => timeAssignments(n, Math.min(calls, 100_000)));
  const main = timeAssignments(nExp, calls);
  console.log(
    `assignment, ${nExp} experiments: p50 ${main.latencyUs.p50.toFixed(2)} us, p99 ${main.latencyUs.p99.toFixed(2)} us, CPU ${main.cpuUsPerCall.toFixed(2)} us/call (${main.meanAssignments.toFixed(1)} assignments per user)`,
  );

  const { db, kind, cleanup } = await openDb(a['database-url']);
  let results;
  let ingest;
  try {
    results = await timeResults(db, exposures, days, runs);
    console.log(`results, ${results.exposures} exposures on ${kind}: p50 ${results.resultsMs.p50.toFixed(1)} ms, p99 ${results.resultsMs.p99.toFixed(1)} ms`);
    ingest = await timeIngest(db, ingestUsers);
    console.log(`ingest on ${kind}: ${ingest.eventsPerSec.toFixed(0)} events/s (replay ${ingest.replayEventsPerSec.toFixed(0)} events/s)`);
  } finally {
    await cleanup();
  }
  const out = {
    command: `npm run bench:experiments -- ${process.argv.slice(2).join(' ')}`.trim(),
    data: {
      assignment: 'synthetic experiments: 4 in 5 in layers of 3, targeting by surface/attribute, coverage 0.5 on 1 in 4, holdout 5%',
      results: `${exposures} synthetic users over ${days} days, 2 variants`,
      database: kind,
    },
    targets: { assignmentP99Us: 1000, resultsMs: 1000 },
    assignment: main,
    assignmentSweep: sweep,
    results,
    ingest,
    machine: machine({}, start),
  };
  mkdirSync(dirname(a.out!), { recursive: true });
  writeFileSync(a.out!, JSON.stringify(out, null, 2));
  writeSvg(a.out!.replace(/\.json$/, '.svg'), {
    title: 'bench:experiments',
    subtitle: `assignment in process; results for ${results!.exposures.toLocaleString('en-US')} exposures (${kind}); load ${start.loadavgAtStart[0]}`,
    panels: [
      {
        title: 'assignment latency vs running experiments',
        x: { name: 'running experiments', type: 'log' },
        y: { name: 'latency', type: 'log', unit: ' us', max: 2000 },
        series: [
          { name: 'p50', kind: 'line', points: sweep.map((s) => ({ x: s.experiments, y: s.latencyUs.p50 })) },
          { name: 'p99', kind: 'line', points: sweep.map((s) => ({ x: s.experiments, y: s.latencyUs.p99 })) },
          { name: 'CPU per call', kind: 'line', dashed: true, points: sweep.map((s) => ({ x: s.experiments, y: s.cpuUsPerCall })) },
        ],
        lines: [{ axis: 'y', value: 1000, label: 'target p99 1 ms' }],
      },
      {
        title: `results request, ${results!.exposures.toLocaleString('en-US')} exposures`,
        x: { name: 'percentile', type: 'category' },
        y: { name: 'time', unit: ' ms', min: 0 },
        series: [
          {
            name: 'results',
            kind: 'bar',
            points: [
              { x: 'p50', y: results!.resultsMs.p50 },
              { x: 'p90', y: results!.resultsMs.p90 },
              { x: 'p99', y: results!.resultsMs.p99 },
              { x: 'max', y: results!.resultsMs.max },
            ],
          },
        ],
        lines: [{ axis: 'y', value: 1000, label: 'target 1 s' }],
      },
    ],
  });
  console.log(`wrote ${a.out} and its .svg`);
});
