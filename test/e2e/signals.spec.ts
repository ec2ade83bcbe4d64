import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '@recsys/platform';

/**
 * `npm start` stopped by SIGINT or SIGTERM sent to the npm process or to the suite's node process:
 * every app shuts down gracefully (the suite logs the signal, "shutting down" and "stopped"), the
 * suite's process is gone within SHUTDOWN_TIMEOUT_MS of the signal, and no app port is listening
 * any more. Runs the built suite (dist/, as `npm test` builds first) with the embedded adapters,
 * every app on a free port, no demo seed.
 */
const root = resolve(__dirname, '../..');
const SHUTDOWN_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 120_000;

function env(dataDir: string): NodeJS.ProcessEnv {
  const ports = Object.fromEntries(['GATEWAY', 'RETRIEVAL', 'BEHAVIOR', 'RANKING', 'SLATES', 'ADLOAD', 'EXPERIMENTS', 'ADS'].map((a) => [`${a}_PORT`, '0']));
  const e: NodeJS.ProcessEnv = { ...process.env, ...ports, DATA_DIR: dataDir, SEED_DEMO: 'false', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), START_SKIP_BUILD: '1' };
  // The embedded adapters: no real servers from the test environment.
  for (const k of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'APPS']) delete e[k];
  return e;
}

/** Child pids of pid (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => T | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves true when something accepts a TCP connection at url, false when it is refused. */
function listening(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((res) => {
    const s = connect({ host: u.hostname, port: Number(u.port) });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

interface Started {
  npm: ChildProcess;
  npmExit: Promise<number | null>;
  /** pid of scripts/start.mjs and of the suite (dist/apps/suite/main.js) */
  start: number;
  suite: number;
  urls: string[];
  output: () => string;
}

const running: Started[] = [];

async function startSuite(dataDir: string): Promise<Started> {
  const expected = loadConfig(env(dataDir)).APPS.length;
  // Its own process group, so that afterEach can remove whatever is left.
  const npm = spawn('npm', ['start'], { cwd: root, env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  npm.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  npm.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const npmExit = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
  const urls = await until(
    `${expected} app lines on stdout`,
    () => {
      const u = [...out.matchAll(/^[a-z]+ (http:\/\/127\.0\.0\.1:\d+)$/gm)].map((m) => m[1]);
      if (npm.exitCode !== null) throw new Error(`npm start exited early (${npm.exitCode}):\n${out}`);
      return u.length === expected && u;
    },
    START_TIMEOUT_MS,
  );
  const start = await until('scripts/start.mjs', () => childrenOf(npm.pid!)[0], 5000);
  const suite = await until('the suite process', () => childrenOf(start)[0], 5000);
  assert.match(readFileSync(`/proc/${start}/cmdline`, 'utf8'), /scripts\/start\.mjs/);
  assert.match(readFileSync(`/proc/${suite}/cmdline`, 'utf8'), /dist\/apps\/suite\/main\.js/);
  const s = { npm, npmExit, start, suite, urls, output: () => out };
  running.push(s);
  return s;
}

describe('npm start: graceful shutdown on SIGINT and SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'signals-'));
  afterEach(() => {
    for (const s of running.splice(0)) {
      try {
        process.kill(-s.npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
      for (const pid of [s.start, s.suite]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const cases: ['npm' | 'node', 'SIGINT' | 'SIGTERM'][] = [
    ['npm', 'SIGINT'],
    ['npm', 'SIGTERM'],
    ['node', 'SIGINT'],
    ['node', 'SIGTERM'],
  ];
  for (const [target, signal] of cases) {
    it(`${signal} to the ${target} process: every app stops gracefully within SHUTDOWN_TIMEOUT_MS, no port left listening`, async () => {
      const s = await startSuite(dataDir);
      for (const url of s.urls) assert.equal(await listening(url), true, `${url} listens before the signal`);
      const t0 = Date.now();
      process.kill(target === 'npm' ? s.npm.pid! : s.suite, signal);
      await until('the suite process to exit', () => !alive(s.suite), SHUTDOWN_TIMEOUT_MS);
      await until('scripts/start.mjs to exit', () => !alive(s.start), 5000);
      const npmCode = await s.npmExit;
      const elapsed = Date.now() - t0;
      assert.ok(elapsed <= SHUTDOWN_TIMEOUT_MS + 5000, `stopped in ${elapsed} ms`);
      const log = s.output();
      assert.match(log, new RegExp(`"signal":"${signal}","msg":"shutting down`), 'the suite received the signal itself');
      assert.match(log, /"msg":"stopped"/, 'and finished its graceful shutdown');
      assert.doesNotMatch(log, /shutdown timed out/);
      for (const url of s.urls) assert.equal(await listening(url), false, `${url} still listening after ${signal}`);
      // Stopped on purpose: the suite exits 0 (npm reports the code it got, or its own signal).
      if (target === 'node') assert.equal(npmCode, 0);
    });
  }

  it('SIGTERM while the apps are still starting: startup completes, then the same graceful shutdown', async () => {
    // The shutdown clock runs from the signal, so it covers the rest of the startup here: a roomier limit than the other cases.
    const limitMs = 30_000;
    const npm = spawn('npm', ['start'], { cwd: root, env: { ...env(dataDir), SHUTDOWN_TIMEOUT_MS: String(limitMs) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    npm.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    npm.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const npmExit = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
    const start = await until('scripts/start.mjs', () => childrenOf(npm.pid!)[0], 30_000);
    const suite = await until('the suite process', () => childrenOf(start)[0], 30_000);
    running.push({ npm, npmExit, start, suite, urls: [], output: () => out });
    // The first log line of startup (the infrastructure is up, no app listens yet): the signal handlers are in place.
    await until('startup to begin', () => out.includes('"msg":"migrations applied"'), START_TIMEOUT_MS);
    assert.doesNotMatch(out, /^[a-z]+ http:\/\//m, 'no app line yet');
    process.kill(suite, 'SIGTERM');
    await until('the suite process to exit', () => !alive(suite), limitMs + 5000);
    assert.equal(await npmExit, 0, 'graceful (a shutdown past the limit exits 1)');
    assert.match(out, /"signal":"SIGTERM","msg":"stop requested while starting/);
    assert.match(out, /"signal":"SIGTERM","msg":"shutting down/);
    assert.match(out, /"msg":"stopped"/);
    // Shut down before serving: no app line was printed, so nobody was told an address.
    assert.doesNotMatch(out, /^[a-z]+ http:\/\//m);
  });
});
