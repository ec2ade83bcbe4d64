/**
 * bench:ope: off-policy evaluation of obp's Bernoulli Thompson Sampling policy (ZOZOTOWN production
 * prior, which obp ships) on the Open Bandit Dataset's uniform-random logs, with every libs/ope
 * estimator, next to obp 0.5.7's own pipeline on the same logs in the same run.
 *
 *   npm run bench:ope -- [--data /work/shared/data/obd] [--campaigns men,women] [--n-sim 100000]
 *     [--bootstrap 2000] [--seed 12345] [--truth men=V,women=V] [--no-obp] [--out bench/results/ope.json]
 *
 * Ours: the action distribution by Monte Carlo as obp's BernoulliTS.compute_batch_action_dist does
 * (n_sim Beta draws per arm, the top len_list arms by sampled value fill the positions; stdlib's
 * seeded Beta sampler), q-hat a tabular reward model (smoothed CTR per item and position), every
 * estimator with its normal and seeded bootstrap interval. obp's: its OBD loader, BernoulliTS's own
 * Monte Carlo, RegressionModel(LogisticRegression, 3-fold cross-fitting) and OffPolicyEvaluation;
 * and obp's estimators on exactly our inputs (max abs difference reported: the parity on real data).
 * --truth gives the on-policy value of the BTS policy (from its own logs, which this sample lacks):
 * the JSON then has each estimator's relative error, ours and obp's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import beta from '@stdlib/random-base-beta';
import { ESTIMATORS, estimateAll, type EstimateResult } from '@recsys/ope';
import { cli, int, names, runMain, UsageError } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg, type Series } from '../common/plot';

const USAGE = `usage: npm run bench:ope -- [--data DIR] [--campaigns men,women] [--n-sim 100000] [--bootstrap 2000]
  [--seed 12345] [--truth men=V,women=V] [--no-obp] [--out bench/results/ope.json]`;
const ROOT = resolve(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'bench', 'ope');

interface Logs {
  reward: Float64Array;
  action: Int32Array;
  position: Int32Array;
  pscore: Float64Array;
  nActions: number;
  lenList: number;
}

/** The OBD CSV (obp's loader: rows sorted by timestamp, position 1..3 -> 0..2). */
export function loadObd(dir: string, campaign: string): Logs {
  const text = readFileSync(join(dir, 'random', campaign, `${campaign}.csv`), 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0].split(',');
  const col = (n: string) => {
    const k = head.indexOf(n);
    if (k < 0) throw new Error(`${campaign}.csv has no column ${n}`);
    return k;
  };
  const [ts, item, pos, click, ps] = ['timestamp', 'item_id', 'position', 'click', 'propensity_score'].map(col);
  const rows = lines.slice(1).map((l) => l.split(','));
  rows.sort((a, b) => (a[ts] < b[ts] ? -1 : a[ts] > b[ts] ? 1 : 0));
  const n = rows.length;
  const out: Logs = { reward: new Float64Array(n), action: new Int32Array(n), position: new Int32Array(n), pscore: new Float64Array(n), nActions: 0, lenList: 0 };
  const positions = [...new Set(rows.map((r) => Number(r[pos])))].sort((a, b) => a - b);
  const items =
    readFileSync(join(dir, 'random', campaign, 'item_context.csv'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0).length - 1;
  rows.forEach((r, i) => {
    out.reward[i] = Number(r[click]);
    out.action[i] = Number(r[item]);
    out.position[i] = positions.indexOf(Number(r[pos]));
    out.pscore[i] = Number(r[ps]);
  });
  out.nActions = items;
  out.lenList = positions.length;
  return out;
}

/** obp BernoulliTS.compute_batch_action_dist: share of n_sim draws putting arm a at position p. */
export function btsActionDist(alpha: number[], betaParam: number[], lenList: number, nSim: number, seed: number): Float64Array {
  const A = alpha.length;
  const draw = beta.factory({ seed });
  const counts = new Float64Array(A * lenList);
  const sampled = new Float64Array(A);
  const order = Array.from({ length: A }, (_, k) => k);
  for (let s = 0; s < nSim; s++) {
    for (let a = 0; a < A; a++) sampled[a] = draw(alpha[a], betaParam[a]);
    order.sort((x, y) => sampled[y] - sampled[x]);
    for (let p = 0; p < lenList; p++) counts[order[p] * lenList + p]++;
  }
  for (let k = 0; k < counts.length; k++) counts[k] /= nSim;
  return counts;
}

/** Smoothed CTR per (item, position): (clicks + m ctr_p) / (shows + m). */
export function tabularQ(logs: Logs, m = 10): Float64Array {
  const { nActions: A, lenList: L } = logs;
  const shows = new Float64Array(A * L);
  const clicks = new Float64Array(A * L);
  const posShows = new Float64Array(L);
  const posClicks = new Float64Array(L);
  for (let i = 0; i < logs.reward.length; i++) {
    const k = logs.action[i] * L + logs.position[i];
    shows[k]++;
    clicks[k] += logs.reward[i];
    posShows[logs.position[i]]++;
    posClicks[logs.position[i]] += logs.reward[i];
  }
  const q = new Float64Array(A * L);
  for (let a = 0; a < A; a++) for (let p = 0; p < L; p++) q[a * L + p] = (clicks[a * L + p] + (m * posClicks[p]) / posShows[p]) / (shows[a * L + p] + m);
  return q;
}

function tile(perRound: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * perRound.length);
  for (let i = 0; i < n; i++) out.set(perRound, i * perRound.length);
  return out;
}

const summary = (e: EstimateResult) => ({
  value: e.value,
  stdErr: e.stdErr,
  ess: e.ess,
  normal: { lower: e.ci.lower, upper: e.ci.upper },
  bootstrap: e.bootstrap && { mean: e.bootstrap.mean, lower: e.bootstrap.lower, upper: e.bootstrap.upper },
});

async function main() {
  const args = cli(
    process.argv.slice(2),
    {
      data: { type: 'string' },
      campaigns: { type: 'string' },
      'n-sim': { type: 'string' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      truth: { type: 'string' },
      'no-obp': { type: 'boolean' },
      out: { type: 'string' },
    },
    USAGE,
  );
  const start = machine();
  const dataDir = resolve(args.data ?? '/work/shared/data/obd');
  const campaigns = names(args.campaigns, '--campaigns', ['men', 'women', 'all'] as const, ['men', 'women']);
  const nSim = int(args['n-sim'], '--n-sim', 100_000);
  const bootN = int(args.bootstrap, '--bootstrap', 2000);
  const seed = int(args.seed, '--seed', 12345);
  const out = resolve(args.out ?? join(ROOT, 'bench', 'results', 'ope.json'));
  const truth: Record<string, number> = {};
  for (const part of (args.truth ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || !Number.isFinite(Number(v))) throw new UsageError(`--truth: expected campaign=value, got "${part}"`);
    truth[k] = Number(v);
  }
  const prior = JSON.parse(readFileSync(join(SRC, 'zozotown-prior.json'), 'utf8'));
  const lambdas = { clipLambda: 10, switchLambda: 10, drosLambda: 10 };
  const alpha = 0.05;

  const ours: Record<string, any> = {};
  const inputs: Record<string, any> = {};
  for (const c of campaigns) {
    const logs = loadObd(dataDir, c);
    const t0 = performance.now();
    const dist = btsActionDist(prior[c].alpha, prior[c].beta, logs.lenList, nSim, seed);
    const tDist = performance.now() - t0;
    const q = tabularQ(logs);
    const n = logs.reward.length;
    const t1 = performance.now();
    const res = estimateAll(
      { reward: logs.reward, action: logs.action, pscore: logs.pscore, position: logs.position, nActions: logs.nActions, lenList: logs.lenList, actionDist: tile(dist, n), qHat: tile(q, n) },
      { ...lambdas, alpha, bootstrap: { n: bootN, seed } },
    );
    const tEst = performance.now() - t1;
    ours[c] = {
      nRounds: n,
      nActions: logs.nActions,
      lenList: logs.lenList,
      loggedCtr: logs.reward.reduce((s, r) => s + r, 0) / n,
      msActionDist: tDist,
      msEstimators: tEst,
      estimates: Object.fromEntries(res.map((e) => [e.estimator, summary(e)])),
    };
    inputs[c] = {
      reward: Array.from(logs.reward),
      action: Array.from(logs.action),
      position: Array.from(logs.position),
      pscore: Array.from(logs.pscore),
      nActions: logs.nActions,
      lenList: logs.lenList,
      actionDist: Array.from(dist),
      qHat: Array.from(q),
    };
    process.stderr.write(`${c}: ${n} rounds, BTS action distribution ${tDist.toFixed(0)} ms, estimators ${tEst.toFixed(0)} ms\n`);
  }

  let obp: Record<string, any> | undefined;
  if (!args['no-obp']) {
    const py = join(ROOT, '.venv-obp', 'bin', 'python');
    if (!existsSync(py)) throw new Error(`${py} missing: run bash ops/parity/obp/setup.sh (or pass --no-obp)`);
    const t = performance.now();
    const text = execFileSync(py, [join(SRC, 'obp_obd.py')], {
      input: JSON.stringify({ dataPath: dataDir, campaigns: inputs, nSim, seed, bootstrapN: bootN, alpha, ...lambdas }),
      maxBuffer: 512 * 1024 * 1024,
      encoding: 'utf8',
    });
    obp = JSON.parse(text);
    process.stderr.write(`obp pipeline: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }

  const campaignsOut: Record<string, any> = {};
  for (const c of campaigns) {
    const o = obp?.[c];
    const parity = o
      ? Math.max(
          ...ESTIMATORS.map((e) =>
            Math.max(
              Math.abs(o.onOurInputs[e].value - ours[c].estimates[e].value),
              ...(['lower', 'upper'] as const).map((f) => Math.abs(o.onOurInputs[e].bootstrap[f] - ours[c].estimates[e].bootstrap[f])),
            ),
          ),
        )
      : undefined;
    const rel = (v: number) => (truth[c] !== undefined ? Math.abs(v - truth[c]) / truth[c] : undefined);
    campaignsOut[c] = {
      ...ours[c],
      obp: o && { estimates: o.obp, actionDistMaxAbsDiff: Math.max(...o.obpActionDist.map((x: number, k: number) => Math.abs(x - inputs[c].actionDist[k]))) },
      parityOnSameInputs: o && { maxAbsDiff: parity, obpEstimates: o.onOurInputs },
      truth: truth[c],
      relativeError: truth[c] !== undefined ? Object.fromEntries(ESTIMATORS.map((e) => [e, { ours: rel(ours[c].estimates[e].value), obp: o ? rel(o.obp[e].value) : undefined }])) : undefined,
    };
  }
  const result = {
    command: `npm run bench:ope -- ${process.argv.slice(2).join(' ')}`.trim(),
    data: { path: dataDir, source: 'Open Bandit Dataset (ZOZO, CC BY 4.0), small sample, uniform-random logging policy', campaigns },
    policy: 'obp BernoulliTS, is_zozotown_prior=True (prior from obp 0.5.7 prior_bts.yaml), action distribution by Monte Carlo',
    settings: {
      nSim,
      bootstrapResamples: bootN,
      seed,
      alpha,
      ...lambdas,
      ourRewardModel: 'smoothed CTR per (item, position), m = 10',
      obpRewardModel: 'obp RegressionModel(LogisticRegression(C=100)), 3-fold cross-fitting',
    },
    machine: machine({}, start),
    campaigns: campaignsOut,
    notes: 'No on-policy value of the BTS policy is in this sample (it needs the bts logs); pass --truth to get relative errors.',
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 1));
  const panels = campaigns.map((c) => {
    const series: Series[] = [
      {
        name: 'libs/ope',
        kind: 'scatter',
        points: ESTIMATORS.map((e) => ({ x: e, y: ours[c].estimates[e].value, lo: ours[c].estimates[e].bootstrap.lower, hi: ours[c].estimates[e].bootstrap.upper })),
      },
    ];
    if (obp?.[c])
      series.push({
        name: 'obp 0.5.7 pipeline',
        kind: 'scatter',
        points: ESTIMATORS.map((e) => ({ x: e, y: obp![c].obp[e].value, lo: obp![c].obp[e].bootstrap.lower, hi: obp![c].obp[e].bootstrap.upper })),
      });
    return {
      title: `${c}: BTS (ZOZOTOWN prior), ${ours[c].nRounds} random-policy rounds`,
      x: { name: 'estimator', type: 'category' as const, categories: [...ESTIMATORS] },
      y: { name: 'estimated CTR (95% bootstrap)' },
      series,
      lines: [{ axis: 'y' as const, value: ours[c].loggedCtr, label: 'logging policy CTR' }, ...(truth[c] !== undefined ? [{ axis: 'y' as const, value: truth[c], label: 'on-policy truth' }] : [])],
    };
  });
  writeSvg(out.replace(/\.json$/, '.svg'), {
    title: 'Off-policy estimates of Bernoulli TS on the Open Bandit Dataset',
    subtitle: `libs/ope vs obp 0.5.7, n_sim ${nSim}, ${bootN} bootstrap resamples`,
    panels,
  });
  process.stdout.write(`${JSON.stringify({ out, parity: Object.fromEntries(campaigns.map((c) => [c, campaignsOut[c].parityOnSameInputs?.maxAbsDiff])) })}\n`);
}

if (require.main === module) runMain(main);
