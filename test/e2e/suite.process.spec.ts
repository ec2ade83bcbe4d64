import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { APP_NAMES } from '@recsys/platform';

// The built suite (npm test builds first): these specs start it as a user would, with plain node.
const DIST = resolve(__dirname, '../../dist');
const MAIN = resolve(DIST, 'apps/suite/main.js');

const children = new Set<ReturnType<typeof spawn>>();
// A failed assertion must not leave a suite process running (it would keep the test run alive).
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(env: Record<string, string>, main = MAIN) {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-main-')), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** The app lines of stdout; JSON lines are pino logs (e.g. the open-admin-routes warning). */
function appLines(out: string): string[] {
  return out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}
describe('the suite process (what npm start runs)', () => {
  it('prints one line per app, serves health, and shuts down cleanly on SIGTERM', async () => {
    const base = 23100 + (process.pid % 500) * 10;
    const ports = Object.fromEntries(APP_NAMES.map((a, i) => [`${a.toUpperCase()}_PORT`, String(base + i)]));
    const p = run(ports);
    const started = Date.now();
    while (appLines(p.out()).length < APP_NAMES.length) {
      if (Date.now() - started > 60_000) assert.fail(`not started in 60 s: ${p.err()}`);
      if (p.child.exitCode !== null) assert.fail(`exited early: ${p.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = appLines(p.out());
    const appLine = new RegExp(`^(${APP_NAMES.join('|')}) http://127\\.0\\.0\\.1:\\d+$`);
    for (const line of lines) assert.match(line, appLine);
    assert.deepEqual(lines.map((l) => l.split(' ')[0]).sort(), [...APP_NAMES].sort(), 'one line per app');
    for (const line of lines) {
      const [, url] = line.split(' ');
      const res = await fetch(`${url}/health`);
      assert.equal(res.status, 200, line);
    }
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.err());
    // The listening sockets are gone after shutdown.
    await assert.rejects(fetch(`${lines[0].split(' ')[1]}/health`));
  });

  it('runs one app alone from its own entry file (the Nest CLI entryFile)', async () => {
    const p = run({ BEHAVIOR_PORT: '0' }, resolve(DIST, 'apps/behavior/src/main.js'));
    const started = Date.now();
    while (appLines(p.out()).length === 0) {
      if (Date.now() - started > 60_000) assert.fail(`not started in 60 s: ${p.err()}`);
      if (p.child.exitCode !== null) assert.fail(`exited early: ${p.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = appLines(p.out());
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^behavior http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${lines[0].split(' ')[1]}/health`)).status, 200);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.err());
  });

  it('lists every bad configuration key and exits non-zero', async () => {
    const p = run({ KAFKA_BROKERS: 'nope', REDIS_URL: 'http://x', GATEWAY_PORT: 'abc' });
    const code = await p.exited;
    assert.equal(code, 2);
    for (const key of ['KAFKA_BROKERS', 'REDIS_URL', 'GATEWAY_PORT']) assert.match(p.err(), new RegExp(key));
  });
});
