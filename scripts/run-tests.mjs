#!/usr/bin/env node
// `npm test`: every TypeScript spec on jest (projects `unit` and `integration`, jest.config.js), the
// lint and format checks, and the offline training side's pytest suite.
//   *.spec.ts      unit, contract and app specs on embedded adapters (no servers)
//   *.int-spec.ts  integration specs against real Kafka, PostgreSQL and Redis, started by the
//                  integration project's global setup through ops/infra-up.sh (idempotent).
// Python reference environments that parity specs call (obp, gbstats, Vowpal Wabbit, ...) are made
// first by every ops/parity/*/setup.sh (idempotent).
// Usage: node scripts/run-tests.mjs [--unit] [jest args...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const jestArgs = args.filter((a) => a !== '--unit');
const env = { ...process.env };

const parity = join(root, 'ops/parity');
if (existsSync(parity)) {
  for (const d of readdirSync(parity).sort()) {
    const setup = join(parity, d, 'setup.sh');
    if (existsSync(setup)) execFileSync('bash', [setup], { stdio: 'inherit', cwd: root });
  }
}

let pytestStatus = 0;
const trainingSetup = join(root, 'ops/training/setup-venv.sh');
if (!unitOnly && existsSync(trainingSetup)) {
  execFileSync('bash', [trainingSetup], { stdio: 'inherit' });
  env.TRAINING_PYTHON ??= join(root, '.venv-training/bin/python');
  if (jestArgs.length === 0) {
    const py = spawnSync(env.TRAINING_PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'ops/training'], { stdio: 'inherit', env, cwd: root });
    pytestStatus = py.status ?? 1;
  }
}

let lintStatus = 0;
if (jestArgs.length === 0 && existsSync(join(root, 'eslint.config.mjs'))) {
  const lint = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings=0', '.'], { stdio: 'inherit', cwd: root });
  const fmt = spawnSync(process.execPath, [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level=warn', '.'], { stdio: 'inherit', cwd: root });
  lintStatus = (lint.status ?? 1) || (fmt.status ?? 1);
  if (lintStatus) console.error('run-tests: lint or format check failed (npx eslint . / npx prettier --write .)');
}

const projects = unitOnly ? ['--selectProjects', 'unit'] : [];
const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', join(root, 'node_modules/jest/bin/jest.js'), ...projects, ...jestArgs], {
  stdio: 'inherit',
  env,
  cwd: root,
});
process.exit((r.status ?? 1) || pytestStatus || lintStatus);
