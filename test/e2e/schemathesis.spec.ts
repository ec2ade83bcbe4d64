import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { APP_NAMES } from '@recsys/platform/config';
import { assertVenv, eventually, getJson, ROOT, runSchemathesis, type StResult } from './schemathesis.support';

/**
 * schemathesis (PyPI, ops/parity/schemathesis) against the OpenAPI document of every app of the
 * suite, with every check (`--checks all`, plus the hook zod_agrees_with_document): no 5xx, every
 * response conforming to the document (status, media type, headers, body schema), negative data
 * rejected, positive data accepted, 405 + Allow for undeclared methods, admin routes refusing
 * missing or wrong credentials. The suite runs as a user starts it (the built
 * dist/apps/suite/main.js, embedded adapters, every app on a free port) with the demo catalog and
 * a live synthetic ranking model, so the success responses are reached too.
 * Bounded: each app at most ST_MAX_TIME seconds (default 18) and ST_MAX_EXAMPLES cases per
 * operation (default 12), so the file stays within ~4 minutes on 2 busy cores.
 * `npm run check:openapi` builds and runs this file.
 */
const ADMIN_TOKEN = 'schemathesis-admin-token-0123456789';
const MAX_EXAMPLES = Number(process.env.ST_MAX_EXAMPLES ?? 12);
const MAX_TIME = Number(process.env.ST_MAX_TIME ?? 18);
const SEED = Number(process.env.ST_SEED ?? 20261206);
const MAIN = join(ROOT, 'dist/apps/suite/main.js');

let child: ChildProcess | undefined;
let stderr = '';
const urls = new Map<string, string>();
const results = new Map<string, StResult>();

async function startSuiteProcess(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm run build first (npm test and npm run check:openapi do)`);
  const ports = Object.fromEntries(APP_NAMES.map((a) => [`${a.toUpperCase()}_PORT`, '0']));
  child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-st-suite-')), LOG_LEVEL: 'error', SEED_DEMO: 'true', ADMIN_TOKEN, ...ports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  await eventually(
    async () => {
      if (child!.exitCode !== null) throw new Error(`suite exited (${child!.exitCode}): ${stderr.slice(-3000)}`);
      for (const line of stdout.split('\n')) {
        const m = /^(\w+) (http:\/\/\S+)$/.exec(line.trim());
        if (m) urls.set(m[1]!, m[2]!);
      }
      return APP_NAMES.every((a) => urls.has(a));
    },
    90_000,
    50,
  );
}

beforeAll(async () => {
  assertVenv();
  await startSuiteProcess();
  const ranking = urls.get('ranking')!;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const { bytes, spec } = syntheticCtrModel({ seed: 1 });
  const reg = await getJson(`${ranking}/v1/models/ctr/versions/v1`, { method: 'POST', headers: auth, body: JSON.stringify({ artifactBase64: bytes.toString('base64'), featureSpec: spec }) });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const pro = await getJson(`${ranking}/v1/models/ctr/versions/v1/promote`, { method: 'POST', headers: auth, body: JSON.stringify({ to: 'live' }) });
  assert.equal(pro.status, 200, JSON.stringify(pro.body));
  // The demo catalog is indexed and the model serves before fuzzing starts.
  await eventually(async () => (await getJson(`${urls.get('retrieval')}/v1/indexes`)).body.indexes?.some((i: { size: number }) => i.size >= 2000), 90_000, 100);
  await eventually(
    async () => (await getJson(`${ranking}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u', domain: spec.domains[0], candidates: ['item-1'] }) })).status === 200,
    30_000,
    50,
  );
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.on('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
});

function report(app: string, r: StResult): string {
  const lines = r.failures.map((f) => `  ${f.operation}: ${f.message.split('\n').slice(0, 6).join(' | ')}`);
  return `${app}: exit ${r.exitCode}, ${r.operations} operations, ${r.failures.length} failures in ${r.seconds.toFixed(1)} s\n${lines.join('\n')}\n--- st output (tail) ---\n${r.output.slice(-6000)}`;
}

describe('schemathesis against every app (all checks, bounded)', () => {
  it.each(APP_NAMES.map((a) => [a]))('%s: exit 0, no failures, every operation tested', async (app) => {
    const r = await runSchemathesis(urls.get(app)!, {
      maxExamples: MAX_EXAMPLES,
      maxTimeSeconds: MAX_TIME,
      seed: SEED,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      killAfterMs: (MAX_TIME + 40) * 1000,
    });
    results.set(app, r);
    // Every app serves at least /health and /metrics; the report must list what it tested.
    assert.ok(r.operations >= 2, report(app, r));
    assert.deepEqual(r.failures, [], report(app, r));
    assert.equal(r.exitCode, 0, report(app, r));
  }, (MAX_TIME + 60) * 1000);
});
