/**
 * bench:slates — interactive slate simulations with ground-truth click models from real logs
 * (Open Bandit Dataset random logs, MovieLens-100K; worlds.ts), the libs/bandits policies against
 * Vowpal Wabbit's conditional contextual bandit on the same simulated users, requests, candidates,
 * ranker scores and click draws (common random numbers); then POST /v1/slates latency in process.
 *
 *   npm run bench:slates -- [--data /work/shared/data] [--seeds 20] [--requests 100000]
 *     [--vw-seeds N] [--vw-requests N] [--no-vw] [--policies greedy,...] [--worlds obd-men,ml-100k] [--vw-parallel 2]
 *     [--no-sim] [--no-latency] [--latency-iterations 2000] [--no-learning] [--learning-requests 50000]
 *     [--brokers 127.0.0.1:19092] [--redis redis://127.0.0.1:16379] [--out bench/results/slates.json]
 *     [--explore 0.25] [--slate-explore 0.1] [--epsilon 0.01] [--ucb-level 0.9]   (default: TUNED in tune.ts)
 *   npm run bench:slates -- --tune [--tune-seeds 3] [--requests 20000] [--worlds ...]   (validation seeds 1001...: chooses those four)
 *
 * Defaults are the issue's full size (20 seeds x 100,000 requests for every policy including VW).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cli, count, int } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg, type Series } from '../common/plot';
import type { PolicyId } from '@recsys/bandits';
import { BanditAgent, makeStream, runAgent, type RunResult } from './simulate';
import { meanCi } from './stats';
import { VwAgent, vwPython } from './vw';
import { movielensWorld, obdWorld, type World } from './worlds';
import { agentOptions, tune, TUNED, type PolicyParams } from './tune';
import { measureLatency, measureLearning } from './latency';

const USAGE =
  'npm run bench:slates -- [--data DIR] [--seeds 20] [--requests 100000] [--vw-seeds N] [--vw-requests N] [--no-vw] [--worlds obd-men,obd-women,ml-100k] [--vw-parallel 2] [--no-sim] [--no-latency] [--latency-iterations 2000] [--no-learning] [--learning-requests 50000] [--brokers H:P] [--redis URL] [--out FILE] [--explore X] [--slate-explore X] [--epsilon X] [--ucb-level X] [--tune] [--tune-seeds N]';

async function main() {
  const a = cli(
    process.argv.slice(2),
    {
      data: { type: 'string' },
      seeds: { type: 'string' },
      requests: { type: 'string' },
      'vw-seeds': { type: 'string' },
      'vw-requests': { type: 'string' },
      'no-vw': { type: 'boolean' },
      policies: { type: 'string' },
      worlds: { type: 'string' },
      'vw-parallel': { type: 'string' },
      'no-sim': { type: 'boolean' },
      'no-latency': { type: 'boolean' },
      'no-learning': { type: 'boolean' },
      'learning-requests': { type: 'string' },
      brokers: { type: 'string' },
      redis: { type: 'string' },
      'latency-iterations': { type: 'string' },
      out: { type: 'string' },
      tune: { type: 'boolean' },
      'tune-seeds': { type: 'string' },
      explore: { type: 'string' },
      'slate-explore': { type: 'string' },
      epsilon: { type: 'string' },
      'ucb-level': { type: 'string' },
    },
    USAGE,
  );
  const root = resolve(__dirname, '../../..');
  const dataDir = a.data ?? '/work/shared/data';
  const seeds = int(a.seeds, '--seeds', 20);
  const T = int(a.requests, '--requests', 100_000);
  const vwSeeds = count(a['vw-seeds'], '--vw-seeds', seeds);
  const vwT = int(a['vw-requests'], '--vw-requests', T);
  const out = resolve(a.out ?? join(root, 'bench/results/slates.json'));
  const worldNames = (a.worlds ?? 'obd-men,ml-100k').split(',');
  const start = machine();
  const command = `npm run bench:slates -- ${process.argv.slice(2).join(' ')}`.trim();
  const result: Record<string, unknown> = { command, data: dataDir, size: { seeds, requests: T, vwSeeds: a['no-vw'] ? 0 : vwSeeds, vwRequests: vwT } };

  if (a.tune) {
    const worlds: World[] = worldNames.map((w) => (w === 'ml-100k' ? movielensWorld(dataDir) : obdWorld(dataDir, w === 'obd-women' ? 'women' : 'men')));
    result.tuning = await tune(worlds, int(a['tune-seeds'], '--tune-seeds', 3), T, (s) => process.stderr.write(`${s}\n`));
    result.machine = machine({}, start);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2));
    process.stdout.write(`${JSON.stringify((result.tuning as { chosen: unknown; scores: unknown }).chosen)}\n${JSON.stringify((result.tuning as { scores: unknown }).scores)}\nwrote ${out}\n`);
    return;
  }
  const params: PolicyParams = {
    inSlateExplore: a.explore !== undefined ? Number(a.explore) : TUNED.inSlateExplore,
    slateExplore: a['slate-explore'] !== undefined ? Number(a['slate-explore']) : TUNED.slateExplore,
    epsilon: a.epsilon !== undefined ? Number(a.epsilon) : TUNED.epsilon,
    ucbLevel: a['ucb-level'] !== undefined ? Number(a['ucb-level']) : TUNED.ucbLevel,
  };
  result.params = params;
  if (!a['no-sim']) {
    const policies = (a.policies ?? 'greedy,epsilon-greedy,bayes-ucb,slate-ts,in-slate-ts').split(',') as PolicyId[];
    const worlds: World[] = worldNames.map((w) => (w === 'ml-100k' ? movielensWorld(dataDir) : obdWorld(dataDir, w === 'obd-women' ? 'women' : 'men')));
    const sims: Record<string, unknown>[] = [];
    const panels = [];
    for (const world of worlds) {
      const runs: RunResult[] = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const stream = makeStream(world, seed, T);
        for (const p of policies) {
          const r = await runAgent(world, stream, seed, new BanditAgent(world, stream, p, seed, agentOptions(p, params)));
          runs.push(r);
        }
        process.stderr.write(
          `${world.name} seed ${seed}: ${runs
            .slice(-policies.length)
            .map((r) => `${r.policy} regret ${r.regret.at(-1)!.toFixed(1)} (${r.seconds.toFixed(1)} s)`)
            .join('; ')}\n`,
        );
      }
      if (!a['no-vw'] && vwSeeds > 0) {
        const py = vwPython(root);
        const script = join(root, 'bench/slates/vw_ccb.py');
        const jobs: (() => Promise<RunResult>)[] = [];
        for (let seed = 1; seed <= vwSeeds; seed++)
          for (const variant of ['default', 'squarecb'] as const)
            jobs.push(async () => {
              const stream = makeStream(world, seed, vwT);
              const r = await runAgent(world, stream, seed, new VwAgent(world, stream, variant, seed, py, script));
              process.stderr.write(`${world.name} seed ${seed}: ${r.policy} regret ${r.regret.at(-1)!.toFixed(1)} (${r.seconds.toFixed(1)} s)\n`);
              return r;
            });
        runs.push(...(await pool(jobs, int(a['vw-parallel'], '--vw-parallel', 2))));
      }
      const summary = summarize(runs, T, vwT);
      sims.push({
        world: world.name,
        source: world.source,
        slateSize: world.slateSize,
        candidates: world.candidates,
        items: world.items.length,
        groups: world.groupNames.length,
        examination: world.examination,
        ...summary,
      });
      panels.push({
        title: `${world.name}: cumulative regret (mean, 95% CI over seeds)`,
        x: { name: 'requests' },
        y: { name: 'regret (expected clicks)' },
        series: (summary.curves as { policy: string; points: { x: number; y: number; lo: number; hi: number }[] }[]).map((c): Series => ({
          name: c.policy,
          kind: 'line',
          interval: 'band',
          points: c.points,
        })),
      });
    }
    result.simulations = sims;
    const svg = out.replace(/\.json$/, '') + '.svg';
    writeSvg(svg, { title: 'bench:slates', subtitle: `${seeds} seeds x ${T} requests (VW: ${a['no-vw'] ? 0 : vwSeeds} x ${vwT}); load ${start.loadavgAtStart.join(' ')}`, panels });
    result.plot = svg;
  }
  if (!a['no-latency']) result.latency = await measureLatency(int(a['latency-iterations'], '--latency-iterations', 2000));
  if (!a['no-learning'])
    result.learning = await measureLearning({
      brokers: a.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
      redisUrl: a.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:16379',
      requests: int(a['learning-requests'], '--learning-requests', 50_000),
      itemsPerImpression: 10,
      clickRate: 0.05,
      probes: 30,
    });
  result.machine = machine({}, start);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  process.stdout.write(`${JSON.stringify(digest(result), null, 2)}\nwrote ${out}\n`);
}

function summarize(runs: RunResult[], T: number, vwT: number) {
  const byPolicy = new Map<string, RunResult[]>();
  for (const r of runs) byPolicy.set(r.policy, [...(byPolicy.get(r.policy) ?? []), r]);
  const policies = [...byPolicy.keys()];
  const final = (r: RunResult) => r.regret.at(-1)!;
  const table = policies.map((p) => {
    const rs = byPolicy.get(p)!;
    const requests = rs[0].at.at(-1)!;
    return {
      policy: p,
      seeds: rs.length,
      requests,
      cumulativeRegret: meanCi(rs.map(final)),
      cumulativeClicks: meanCi(rs.map((r) => r.clicks.at(-1)!)),
      clicksAfterFirst10pct: meanCi(rs.map((r) => r.clicksAfter10)),
      oracleClicks: meanCi(rs.map((r) => r.oracleClicks)),
      distinctGroupsPerSlate: meanCi(rs.map((r) => r.distinctGroups)),
      secondsPerRun: meanCi(rs.map((r) => r.seconds)),
    };
  });
  // Paired by seed (same requests and click draws) against in-slate TS, on the seeds/horizon both ran.
  const ts = byPolicy.get('in-slate-ts') ?? [];
  const paired = policies
    .filter((p) => p !== 'in-slate-ts')
    .map((p) => {
      const rs = byPolicy.get(p)!;
      const h = rs[0].at.at(-1)!;
      const diffs = rs
        .map((r) => {
          const t = ts.find((x) => x.seed === r.seed);
          if (!t) return undefined;
          const k = t.at.indexOf(h);
          return k >= 0 ? r.regret.at(-1)! - t.regret[k] : undefined;
        })
        .filter((x): x is number => x !== undefined);
      const ci = diffs.length ? meanCi(diffs) : undefined;
      return { policy: p, horizon: h, regretMinusInSlateTs: ci, inSlateTsBetter: ci ? ci.lo > 0 : undefined };
    });
  const nonOverlap = table
    .filter((r) => r.policy !== 'in-slate-ts' && r.policy !== 'greedy')
    .map((r) => {
      const tsAt = ts.map((t) => t.regret[t.at.indexOf(r.requests)]).filter((x) => x !== undefined);
      const tsCi = meanCi(tsAt);
      return { policy: r.policy, horizon: r.requests, inSlateTs: tsCi, other: r.cumulativeRegret, intervalsDisjointAndTsLower: tsCi.hi < r.cumulativeRegret.lo };
    });
  const curves = policies.map((p) => {
    const rs = byPolicy.get(p)!;
    return { policy: p, points: rs[0].at.map((x, k) => ({ x, ...pick(meanCi(rs.map((r) => r.regret[k]))) })) };
  });
  return { table, pairedAgainstInSlateTs: paired, targetNonOverlap: nonOverlap, curves, horizons: { bandits: T, vw: vwT } };
}

const pick = (c: { mean: number; lo: number; hi: number }) => ({ y: c.mean, lo: c.lo, hi: c.hi });

async function pool<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, jobs.length) }, async () => {
      while (next < jobs.length) {
        const k = next++;
        out[k] = await jobs[k]();
      }
    }),
  );
  return out;
}

function digest(r: Record<string, unknown>) {
  const sims = (r.simulations as { world: string; table: { policy: string; cumulativeRegret: { mean: number; lo: number; hi: number }; cumulativeClicks: { mean: number } }[] }[] | undefined) ?? [];
  return {
    size: r.size,
    simulations: sims.map((s) => ({
      world: s.world,
      regret: Object.fromEntries(
        s.table.map((t) => [t.policy, `${t.cumulativeRegret.mean.toFixed(1)} [${t.cumulativeRegret.lo.toFixed(1)}, ${t.cumulativeRegret.hi.toFixed(1)}] clicks ${t.cumulativeClicks.mean.toFixed(0)}`]),
      ),
    })),
    latency: r.latency,
    learning: r.learning,
  };
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
