import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_APPS } from '../../apps/suite/apps';
import { APP_NAMES, createLogger, loadConfig, RunningSuite, startSuite } from '@recsys/platform';

/** Starts the suite in this process on random ports; `env` adds configuration (e.g. real servers). */
export async function startTestSuite(env: Record<string, string> = {}): Promise<RunningSuite & { url(app: string): string }> {
  const ports = Object.fromEntries(APP_NAMES.map((a) => [`${a.toUpperCase()}_PORT`, '0']));
  // The embedded database in memory: a test suite's data dies with it (specs of persistence set PGLITE_DIR).
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-suite-')), PGLITE_DIR: 'memory', LOG_LEVEL: 'warn', SEED_DEMO: 'false', ...ports, ...env });
  const suite = await startSuite(config, ALL_APPS, createLogger(config.LOG_LEVEL, { test: true }));
  return {
    ...suite,
    url(app: string) {
      const a = suite.apps.find((x) => x.name === app);
      if (!a) throw new Error(`app ${app} not running`);
      return a.url;
    },
  };
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; type: string | null }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, type: res.headers.get('content-type') };
}

export const postJson = (url: string, body: unknown) => getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 25): Promise<T> {
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
