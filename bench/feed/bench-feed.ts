/**
 * npm run bench:feed -- [--stacks embedded,real] [--rates 100,200,400] [--duration 20] [--limit 20]
 *   [--candidates 500] [--stop ranking] [--late ranking] [--late-rates 20,200] [--out bench/results/feed.json] [--cpu-prof dir]
 *
 * Load test of GET /v1/feed with autocannon at fixed request rates against the whole suite in one
 * child process (`node dist/apps/suite/main.js`, demo seed: the shipped MovieLens model live),
 * on the embedded stack and on real Kafka/PostgreSQL/Redis (ops/infra.env addresses). For each rate:
 * client latency percentiles, errors, non-2xx, and the per-stage breakdown (the gateway's
 * `timingsMs` of every response, and its gateway_stage_duration_seconds histogram from /metrics, this run's share).
 * Then the degraded paths at 200 rps: one stage stopped (its app not started: connection refused,
 * the breaker opens) and, on the embedded stack, one stage late (a stand-in answering after 1 s,
 * breaker disabled) to check that a timed-out stage adds no more than its deadline + 5 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cli, int, list, names, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg, type Series } from '../common/plot';
import { quantiles } from '../common/stats';

const requireCjs = createRequire(__filename);
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: any) => void) => { stop(): void };
const autocannon = requireCjs('autocannon') as Autocannon;

const ROOT = resolve(__dirname, '../../..');
/** The compiled tree this bench runs from (dist/, or another outDir such as dist-feed/): the suite is started from the same one. */
const DIST = resolve(__dirname, '../..');
const APPS = ['retrieval', 'behavior', 'ranking', 'slates', 'adload', 'experiments', 'ads', 'gateway'] as const;
const STAGES = ['experiments', 'history', 'retrieval', 'ranking', 'slates', 'adload', 'ads', 'total'] as const;
const STAGE_APP: Record<string, string> = {
  experiments: 'experiments',
  history: 'behavior',
  retrieval: 'retrieval',
  ranking: 'ranking',
  slates: 'slates',
  adload: 'adload',
  ads: 'ads',
};
const USAGE =
  'usage: bench-feed [--stacks embedded,real] [--scenarios healthy,stopped,late] [--rates 100,200,400] [--duration 20] [--limit 20] [--candidates 500] [--stop ranking] [--late ranking] [--late-rates 20,200] [--out bench/results/feed.json] [--cpu-prof dir]';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Suite {
  child: ChildProcess;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/** `--cpu-prof <dir>`: the suite runs under `node --cpu-prof` (one .cpuprofile per thread, written at exit). */
let cpuProfDir: string | undefined;

async function startSuite(env: Record<string, string>, apps: readonly string[]): Promise<Suite> {
  const ports: Record<string, string> = {};
  for (const a of APPS) ports[`${a.toUpperCase()}_PORT`] = String(await freePort());
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, join(DIST, 'apps/suite/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'true',
      APPS: apps.join(','),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-feed-')),
      ...ports,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const urls: Record<string, string> = {};
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  await new Promise<void>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`suite did not start in 300 s: ${stderr}`)), 300_000);
    child.stdout!.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        const m = /^(\w+) (http:\/\/\S+)$/.exec(line.trim());
        if (m) urls[m[1]!] = m[2]!;
      }
      if (apps.every((a) => urls[a])) {
        clearTimeout(timer);
        res();
      }
    });
    child.on('exit', (code) => rej(new Error(`suite exited ${code}: ${stderr}`)));
  });
  child.stdout!.resume();
  return {
    child,
    urls,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

/** The gateway's default stage deadlines (apps/gateway DEFAULT_DEADLINES), for the late-stage check. */
const DEADLINES: Record<string, number> = { experiments: 15, history: 15, retrieval: 40, ranking: 40, slates: 25, adload: 15, ads: 25 };

const USERS = Array.from({ length: 20 }, (_, i) => `demo-user-${i}`);

/**
 * Waits until a demo user's feed comes from retrieval (catalog indexed, clicks applied, model live
 * if ranking runs). On a machine too busy for the stage deadlines that may never happen: after
 * `timeoutMs` the run goes on and the report records what the feed looked like (`ready: false`).
 */
async function waitReady(gateway: string, expectRanking: boolean, timeoutMs = 150_000): Promise<{ ready: boolean; degraded: string[]; versions?: unknown; source?: string }> {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${gateway}/v1/feed?userId=${USERS[0]}&limit=20`);
      last = await r.json();
      if (r.status === 200 && last.source === 'retrieval' && (!expectRanking || !last.degraded.includes('ranking')))
        return { ready: true, degraded: last.degraded, versions: last.versions, source: last.source };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`feed not ready after ${timeoutMs} ms (going on): degraded ${JSON.stringify(last?.degraded)} reasons ${JSON.stringify(last?.degradedReasons)}\n`);
  return { ready: false, degraded: last?.degraded ?? [], versions: last?.versions, source: last?.source };
}

interface RunResult {
  label: string;
  rate: number;
  durationS: number;
  requests: number;
  achievedRps: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latencyMs: {
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
    mean: number;
  };
  degradedResponses: Record<string, number>;
  /** CPU time of the whole suite process (every app) per answered fetch: independent of how busy the machine is. */
  suiteCpuMsPerRequest: number;
  stageMs: Record<string, { p50: number; p99: number; max: number } | undefined>;
  metricsStageSummary: Record<string, number>;
}

async function load(gateway: string, label: string, rate: number, durationS: number, limit: number): Promise<RunResult> {
  const timings: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  const degraded: Record<string, number> = {};
  let i = 0;
  const cpuBefore = await cpuSeconds(gateway);
  const bucketsBefore = await stageBuckets(gateway);
  const result: any = await new Promise((res, rej) => {
    autocannon(
      {
        url: gateway,
        connections: Math.min(64, Math.max(8, Math.ceil(rate / 10))),
        overallRate: rate,
        duration: durationS,
        timeout: 10,
        requests: [
          {
            setupRequest: (req: any) => ({
              ...req,
              method: 'GET',
              path: `/v1/feed?userId=${USERS[i++ % USERS.length]}&limit=${limit}`,
            }),
            onResponse: (status: number, body: string) => {
              if (status !== 200) return;
              try {
                const b = JSON.parse(body);
                for (const [k, v] of Object.entries(b.timingsMs as Record<string, number>)) timings[k]?.push(v);
                for (const d of b.degraded as string[]) degraded[d] = (degraded[d] ?? 0) + 1;
              } catch {
                /* counted as an error below by status */
              }
            },
          },
        ],
      },
      (err, r) => (err ? rej(err) : res(r)),
    );
  });
  const cpuAfter = await cpuSeconds(gateway);
  const summary = stageQuantiles(bucketsBefore, await stageBuckets(gateway));
  const stageMs: RunResult['stageMs'] = {};
  for (const s of STAGES) {
    const v = timings[s]!;
    if (v.length === 0) continue;
    const [p50, p99] = quantiles(v, [0.5, 0.99]);
    stageMs[s] = {
      p50: round(p50!),
      p99: round(p99!),
      max: round(Math.max(...v)),
    };
  }
  const lat = result.latency;
  return {
    label,
    rate,
    durationS,
    requests: result.requests.total,
    achievedRps: round(result.requests.total / durationS),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    latencyMs: {
      p50: lat.p50,
      p90: lat.p90,
      p99: lat.p99,
      p999: lat.p99_9,
      max: lat.max,
      mean: round(lat.average),
    },
    degradedResponses: degraded,
    suiteCpuMsPerRequest: round(((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests.total)),
    stageMs,
    metricsStageSummary: summary,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

type Buckets = Map<string, Map<number, number>>;

/** The gateway's gateway_stage_duration_seconds histogram: cumulative count per `stage.outcome` and bucket bound. */
async function stageBuckets(gateway: string): Promise<Buckets> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const out: Buckets = new Map();
  for (const m of text.matchAll(/^gateway_stage_duration_seconds_bucket\{([^}]*)\} ([\d.e+-]+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    const key = `${labels.stage}.${labels.outcome}`;
    const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(le, Number(m[2]));
  }
  return out;
}

/** p50/p90/p99 (ms) of what the histogram gained between two reads (this run only), linear within a bucket. */
function stageQuantiles(before: Buckets, after: Buckets): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, counts] of after) {
    const bounds = [...counts.keys()].sort((a, b) => a - b);
    const delta = bounds.map((b) => counts.get(b)! - (before.get(key)?.get(b) ?? 0));
    const total = delta[delta.length - 1]!;
    if (total <= 0) continue;
    for (const q of [0.5, 0.9, 0.99]) {
      const rank = q * total;
      const i = delta.findIndex((c) => c >= rank);
      const hi = bounds[i]!;
      const lo = i > 0 ? bounds[i - 1]! : 0;
      const below = i > 0 ? delta[i - 1]! : 0;
      const inBucket = delta[i]! - below;
      const v = Number.isFinite(hi) ? lo + (inBucket > 0 ? ((rank - below) / inBucket) * (hi - lo) : 0) : lo;
      out[`${key}.p${q * 100}`] = round(v * 1000);
    }
  }
  return out;
}

/** process_cpu_seconds_total of the suite process (one process: every app's CPU). */
async function cpuSeconds(gateway: string): Promise<number> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const m = /^process_cpu_seconds_total(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** A stand-in stage that answers after `delayMs` (the late-stage run). */
async function lateServer(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const s: Server = createServer((req, res) => {
    req.resume();
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    }, delayMs);
    timers.add(t);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

function realEnv(tag: string): Record<string, string> {
  const prefix = `bench-feed-${tag}-${Date.now().toString(36)}.`;
  return {
    KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092',
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://recsys:recsys@127.0.0.1:15432/recsys',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379',
    KAFKA_TOPIC_PREFIX: prefix,
    STATE_PREFIX: prefix,
    RETRIEVAL_CONSUMER_GROUP: `${prefix}retrieval`,
  };
}

async function main() {
  const o = cli(
    process.argv.slice(2),
    {
      stacks: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      limit: { type: 'string' },
      candidates: { type: 'string' },
      stop: { type: 'string' },
      late: { type: 'string' },
      scenarios: { type: 'string' },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'late-rates': { type: 'string' },
    },
    USAGE,
  );
  const stacks = names(o.stacks, '--stacks', ['embedded', 'real'] as const, ['embedded', 'real']);
  const rates = list(o.rates, '--rates', [100, 200, 400]);
  const duration = int(o.duration, '--duration', 20);
  const limit = int(o.limit, '--limit', 20);
  const candidates = int(o.candidates, '--candidates', 500);
  const stop = names(o.stop, '--stop', ['experiments', 'history', 'retrieval', 'ranking', 'slates', 'adload', 'ads'] as const, ['ranking'])[0]!;
  const late = names(o.late, '--late', ['ranking', 'retrieval', 'slates', 'adload', 'ads', 'experiments'] as const, ['ranking'])[0]!;
  const scenarios = names(o.scenarios, '--scenarios', ['healthy', 'stopped', 'late'] as const, ['healthy', 'stopped', 'late']);
  const out = resolve(o.out ?? 'bench/results/feed.json');
  cpuProfDir = o['cpu-prof'] ? resolve(o['cpu-prof']) : undefined;
  const lateRates = list(o['late-rates'], '--late-rates', [20, 200]);
  const lateDeadline = DEADLINES[late];
  const start = machine();
  const base = {
    GATEWAY_CANDIDATES: String(candidates),
    BEHAVIOR_TABLE_TYPES: 'click',
  };
  const runs: RunResult[] = [];
  const ready: Record<string, unknown> = {};

  const save = (done: boolean) => {
    const report = {
      command: `npm run bench:feed -- ${process.argv.slice(2).join(' ')}`.trim(),
      data: {
        suite: 'all apps in one child process (node dist/apps/suite/main.js), demo seed: apps/suite/demo-model (MovieLens-100K catalog, 1682 items; AdaptDHM live), 20 demo users',
        request: `GET /v1/feed?userId=demo-user-<0..19>&limit=${limit}, ${candidates} candidates asked from retrieval`,
        client: 'autocannon (same machine, overallRate fixed; latency is per request as sent, so queueing behind a slow response is not corrected for coordinated omission)',
        deadlinesMs: 'defaults: experiments 15, history 15, retrieval 40, ranking 40, slates 25, adload 15, ads 25; fetch budget 150',
        transport:
          'the gateway calls every stage of its process in process (LocalDirectory capabilities); a stopped stage is not in the process and is tried over HTTP (connection refused); the late stage is a stand-in HTTP server',
        readyAtStart: ready,
      },
      machine: machine(
        {
          note: '2 cores shared with other workloads; see the load averages',
          complete: done,
        },
        start,
      ),
      figures: {
        runs,
        targets: {
          p99At200RpsEmbeddedMs: runs.find((r) => r.label === 'embedded' && r.rate === 200)?.latencyMs.p99 ?? null,
          targetMs: 50,
          errorsTotal: runs.reduce((a, r) => a + r.errors + r.timeouts + r.non2xx, 0),
          /** The late stage's time in the gateway against its deadline (the target: at most deadline + 5 ms). */
          lateStage: runs
            .filter((r) => r.label.endsWith(`${late} late`))
            .map((r) => ({
              rate: r.rate,
              achievedRps: r.achievedRps,
              deadlineMs: lateDeadline,
              stageMs: r.stageMs[late],
              overDeadlineP99Ms: r.stageMs[late] ? round(r.stageMs[late]!.p99 - lateDeadline!) : null,
            })),
        },
      },
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2));
    const healthy = runs.filter((r) => !r.label.includes(','));
    const series: Series[] = [...new Set(healthy.map((r) => r.label))].flatMap((label) =>
      (['p50', 'p99'] as const).map((q) => ({
        name: `${label} ${q}`,
        kind: 'line' as const,
        dashed: q === 'p50',
        points: healthy.filter((r) => r.label === label).map((r) => ({ x: r.rate, y: r.latencyMs[q] })),
      })),
    );
    const degradedRuns = runs.filter((r) => r.label.includes(',') || r.rate === 200);
    writeSvg(out.replace(/\.json$/, '.svg'), {
      title: 'GET /v1/feed under fixed request rates (autocannon)',
      subtitle: `limit ${limit}, ${candidates} candidates; whole suite in one process; load ${start.loadavgAtStart.join('/')}`,
      width: 1100,
      panels: [
        {
          title: 'client latency',
          x: {
            name: 'requests/s',
            type: 'category',
            categories: rates.map(String),
          },
          y: { name: 'ms (log)', type: 'log', unit: ' ms' },
          series: series.map((s) => ({
            ...s,
            points: s.points.map((p) => ({ ...p, x: String(p.x) })),
          })),
          lines: [{ axis: 'y', value: 50, label: 'target p99' }],
        },
        {
          title: 'at 200 rps: p50 / p99, healthy and degraded',
          x: { name: '', type: 'category' },
          y: { name: 'ms', unit: ' ms' },
          series: (['p50', 'p99'] as const).map((q) => ({
            name: q,
            kind: 'bar' as const,
            points: degradedRuns.filter((r) => r.rate === 200).map((r) => ({ x: r.label.replace(', ', '\n'), y: r.latencyMs[q] })),
          })),
        },
      ],
    });
    return report;
  };

  for (const stack of stacks) {
    const env = stack === 'real' ? { ...base, ...realEnv('all') } : base;
    if (scenarios.includes('healthy')) {
      process.stderr.write(`[${stack}] starting the suite...\n`);
      const suite = await startSuite(env, APPS);
      try {
        const first = await waitReady(suite.urls.gateway!, true);
        ready[stack] = first;
        process.stderr.write(`[${stack}] ready (degraded at start: ${first.degraded.join(',') || 'none'}); warm-up\n`);
        await load(suite.urls.gateway!, 'warmup', 100, 5, limit);
        for (const rate of rates) {
          process.stderr.write(`[${stack}] ${rate} rps for ${duration} s\n`);
          runs.push({
            ...(await load(suite.urls.gateway!, `${stack}`, rate, duration, limit)),
            label: stack,
          });
          save(false);
        }
      } finally {
        await suite.stop();
      }
    }

    // One stage stopped: its app is not started at all.
    if (scenarios.includes('stopped')) {
      const stageApp = STAGE_APP[stop]!;
      process.stderr.write(`[${stack}] ${stop} stopped (${stageApp} not running): 200 rps\n`);
      const stopped = await startSuite(
        stack === 'real' ? { ...base, ...realEnv('stop') } : base,
        APPS.filter((a) => a !== stageApp),
      );
      try {
        ready[`${stack}, ${stop} stopped`] = await waitReady(stopped.urls.gateway!, false);
        await load(stopped.urls.gateway!, 'warmup', 100, 5, limit);
        runs.push(await load(stopped.urls.gateway!, `${stack}, ${stop} stopped`, 200, duration, limit));
        save(false);
      } finally {
        await stopped.stop();
      }
    }

    if (stack === 'embedded' && scenarios.includes('late')) {
      // One stage late: answers after 1 s; the breaker never opens, so every fetch waits the deadline.
      const slow = await lateServer(1000);
      // The late stage over HTTP (the stand-in); every other stage in process as usual.
      const stageEnv = {
        [`GATEWAY_${STAGE_APP[late]!.toUpperCase()}_URL`]: slow.url,
        GATEWAY_IN_PROCESS: Object.keys(STAGE_APP)
          .filter((s) => s !== late)
          .join(','),
        GATEWAY_BREAKER_FAILURES: '1000000',
      };
      process.stderr.write(`[${stack}] ${late} late (1 s, deadline applies): 200 rps\n`);
      const lateSuite = await startSuite({ ...base, ...stageEnv }, APPS);
      try {
        ready[`${stack}, ${late} late`] = await waitReady(lateSuite.urls.gateway!, false);
        await load(lateSuite.urls.gateway!, 'warmup', 100, 5, limit);
        // At a rate the suite keeps up with (the deadline mechanism itself) and at 200 rps.
        for (const rate of lateRates) {
          runs.push(await load(lateSuite.urls.gateway!, `${stack}, ${late} late`, rate, duration, limit));
          save(false);
        }
      } finally {
        await lateSuite.stop();
        await slow.close();
      }
    }
  }

  const report = save(true);
  process.stdout.write(`${JSON.stringify(report.figures.targets)}\nwrote ${out}\n`);
}

runMain(main);
