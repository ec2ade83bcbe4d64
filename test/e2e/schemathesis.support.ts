import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const ST = join(ROOT, '.venv-schemathesis/bin/st');
const HERE = join(ROOT, 'ops/parity/schemathesis');

export interface StOptions {
  /** Test cases per operation and phase (hypothesis max_examples). */
  maxExamples: number;
  /** Time budget of the whole run of one app, in seconds. */
  maxTimeSeconds: number;
  seed: number;
  /** Stop after this many failures (default: run the whole budget). */
  maxFailures?: number;
  headers?: Record<string, string>;
  /** Hard kill after this long (ms): a hung run fails instead of blocking the suite. */
  killAfterMs: number;
}

export interface StFailure {
  operation: string;
  title: string;
  message: string;
  status?: number;
}

export interface StResult {
  exitCode: number | null;
  output: string;
  /** From the JUnit report: test cases (one per operation) and their failures. */
  operations: number;
  failures: StFailure[];
  seconds: number;
  /** Test cases schemathesis generated (its summary line), for the record. */
  generated: number;
}

/** Fails loudly when ops/parity/schemathesis/setup.sh has not run. */
export function assertVenv(): void {
  if (!existsSync(ST)) throw new Error(`${ST} is missing: run 'bash ops/parity/schemathesis/setup.sh' (npm test runs every ops/parity/*/setup.sh first)`);
}

function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#10;/g, '\n')
    .replace(/&amp;/g, '&');
}

/** Test cases and failures of a schemathesis JUnit report (one <testcase> per operation). */
export function parseJunit(xml: string): { operations: number; failures: StFailure[] } {
  const failures: StFailure[] = [];
  let operations = 0;
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    operations++;
    const name = /name="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
    const inner = m[3] ?? '';
    for (const f of inner.matchAll(/<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/g)) {
      const attrs = f[2] ?? '';
      const message = decode(/message="([^"]*)"/.exec(attrs)?.[1] ?? f[3] ?? '');
      const text = decode(f[3] ?? '');
      const status = /\[(\d{3})\]/.exec(text)?.[1];
      failures.push({ operation: decode(name), title: f[1]!, message: [message, text.trim().slice(0, 1500)].filter(Boolean).join(': '), ...(status ? { status: Number(status) } : {}) });
    }
  }
  return { operations, failures };
}

/** `st run` with every check against one app's /docs-json; never rejects (the result says what happened). */
export async function runSchemathesis(baseUrl: string, o: StOptions): Promise<StResult> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-st-'));
  const junit = join(dir, 'junit.xml');
  const args = [
    '--config-file',
    join(HERE, 'schemathesis.toml'),
    'run',
    `${baseUrl}/docs-json`,
    '--checks',
    'all',
    '--max-examples',
    String(o.maxExamples),
    '--max-time',
    String(o.maxTimeSeconds),
    '--seed',
    String(o.seed),
    '--workers',
    '1',
    '--request-timeout',
    '10',
    '--no-color',
    ...(o.maxFailures ? ['--max-failures', String(o.maxFailures)] : []),
    '--report',
    'junit',
    '--report-junit-path',
    junit,
    ...Object.entries(o.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
  ];
  const started = Date.now();
  const child = spawn(ST, args, {
    cwd: dir,
    env: { ...process.env, SCHEMATHESIS_HOOKS: join(HERE, 'hooks.py'), NO_COLOR: '1', COLUMNS: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs);
  const exitCode = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  clearTimeout(timer);
  const seconds = (Date.now() - started) / 1000;
  let parsed = { operations: 0, failures: [] as StFailure[] };
  if (existsSync(junit)) parsed = parseJunit(readFileSync(junit, 'utf8'));
  const generated = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
  return { exitCode, output, seconds, generated, ...parsed };
}

/** Polls `fn` until it returns a truthy value (errors count as not yet). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, stepMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}
