#!/usr/bin/env node
// `npm start`: compiles only when a source file is newer than the last build (npm ci already
// built through `prepare`; START_SKIP_BUILD=1 never compiles, e.g. in tests run after a build),
// then runs the suite with the given arguments (e.g. --only retrieval).
//
// Signals: SIGINT, SIGTERM and SIGHUP reaching this process (from npm, which forwards them, or sent
// to it directly) are passed on to the suite, which shuts every app down gracefully (stop taking
// requests, drain consumers, commit offsets) within SHUTDOWN_TIMEOUT_MS; this process waits for it
// and exits with its code. Should the suite not be gone SHUTDOWN_TIMEOUT_MS + 5 s after the first
// signal, it is killed (SIGKILL), so no app is ever left running without this process.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const stamp = join(root, 'dist', '.tsbuildinfo');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : name.endsWith('.ts') ? s.mtimeMs : 0);
  }
  return t;
}

/** The child that currently runs (compiler or suite), and the first stop signal received. */
let child = null;
let stopSignal = null;
let killTimer = null;

function onSignal(sig) {
  if (stopSignal === null) {
    stopSignal = sig;
    const graceMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000) + 5_000;
    killTimer = setTimeout(() => {
      process.stderr.write(`start: the suite did not stop within ${graceMs} ms of ${sig}: killing it\n`);
      child?.kill('SIGKILL');
    }, graceMs);
  }
  // Passed on every time (a second Ctrl-C reaches the suite too, which ignores repeats).
  if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
}
for (const sig of SIGNALS) process.on(sig, () => onSignal(sig));

// npm runs this script through `sh -c`; package.json's `exec` makes this process npm's direct child,
// so the SIGINT/SIGTERM npm forwards arrive here. Should the parent die anyway (npm killed, a shell
// without exec), this process is re-parented: treated as SIGTERM, so the suite is never orphaned.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && stopSignal === null) {
    process.stderr.write(`start: parent process ${parent} is gone: stopping the suite\n`);
    onSignal('SIGTERM');
  }
}, 250).unref();

/** Runs a node script as the current child; resolves with its exit code (128 + n when killed by a signal). */
function run(args, opts = {}) {
  return new Promise((resolveRun) => {
    child = spawn(process.execPath, args, { stdio: 'inherit', ...opts });
    child.on('exit', (code, signal) => {
      child = null;
      resolveRun(code ?? (signal ? 128 + (SIGNALS.indexOf(signal) >= 0 ? { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] : 9) : 1));
    });
  });
}

async function main() {
  let built = 0;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    /* never built */
  }
  const sources = Math.max(...['apps', 'libs', 'scripts', 'bench', 'test'].map((d) => newest(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
  if (sources > built && process.env.START_SKIP_BUILD !== '1') {
    process.stderr.write('compiling...\n');
    // The same two steps as `npm run build`: tsc, then tsc-alias rewrites the @recsys/* imports.
    for (const step of [
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')],
      [join(root, 'node_modules/tsc-alias/dist/bin/index.js'), '-p', join(root, 'tsconfig.json')],
    ]) {
      const code = await run(step);
      if (stopSignal !== null) return 130;
      if (code !== 0) return code;
    }
  }
  if (stopSignal !== null) return 130;
  const code = await run(['--enable-source-maps', join(root, 'dist/apps/suite/main.js'), ...process.argv.slice(2)]);
  return code;
}

main().then(
  (code) => {
    if (killTimer) clearTimeout(killTimer);
    process.exit(code);
  },
  (e) => {
    process.stderr.write(`start: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
