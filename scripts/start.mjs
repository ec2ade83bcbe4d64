#!/usr/bin/env node
// `npm start`: compiles only when a source file is newer than the last build (npm ci already
// built through `prepare`), then runs the suite with the given arguments (e.g. --only retrieval).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const stamp = join(root, 'dist', '.tsbuildinfo');

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

let built = 0;
try {
  built = statSync(stamp).mtimeMs;
} catch {
  /* never built */
}
const sources = Math.max(...['apps', 'libs', 'scripts', 'bench', 'test'].map((d) => newest(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (sources > built) {
  process.stderr.write('compiling...\n');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
const app = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/apps/suite/main.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
// Forward stop signals so the suite shuts down gracefully (drain consumers, commit offsets).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => app.kill(sig));
app.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
