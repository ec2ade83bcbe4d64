#!/usr/bin/env node
// Runs every spec in dist/ with node's test runner.
//   *.spec.js      unit and contract specs on embedded adapters (no servers)
//   *.int-spec.js  integration specs against real Kafka, PostgreSQL and Redis; the servers are
//                  started through ops/infra-up.sh first (idempotent: reused when already up).
// Usage: node scripts/run-tests.mjs [--unit] [filter-substring...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(int-)?spec\.js$/.test(name)) out.push(p);
  }
  return out;
}

let files = walk(join(root, 'dist')).filter((f) => !f.includes('node_modules'));
if (unitOnly) files = files.filter((f) => !f.endsWith('.int-spec.js'));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
files.sort();
if (files.length === 0) {
  console.error('run-tests: no spec files matched');
  process.exit(1);
}

const env = { ...process.env };
if (files.some((f) => f.endsWith('.int-spec.js'))) {
  execFileSync('bash', [join(root, 'ops/infra-up.sh')], { stdio: 'inherit' });
  const vars = execFileSync('bash', ['-c', `source ${join(root, 'ops/infra.env')} && echo "$TEST_KAFKA_BROKERS|$TEST_DATABASE_URL|$TEST_REDIS_URL"`]).toString().trim().split('|');
  env.TEST_KAFKA_BROKERS ??= vars[0];
  env.TEST_DATABASE_URL ??= vars[1];
  env.TEST_REDIS_URL ??= vars[2];
}

// The offline training side (Python): its venv is created (idempotently) for the pytest suite and for
// the end-to-end spec that trains a model, exports it to ONNX and serves it from Node.
const trainingSetup = join(root, 'ops/training/setup-venv.sh');
let pytestStatus = 0;
if (!unitOnly && existsSync(trainingSetup)) {
  execFileSync('bash', [trainingSetup], { stdio: 'inherit' });
  env.TRAINING_PYTHON ??= join(root, '.venv-training/bin/python');
  if (filters.length === 0) {
    const py = spawnSync(env.TRAINING_PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'ops/training'], { stdio: 'inherit', env, cwd: root });
    pytestStatus = py.status ?? 1;
  }
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env,
  cwd: root,
});
process.exit((r.status ?? 1) || pytestStatus);
