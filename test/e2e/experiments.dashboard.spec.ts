// The dashboard in headless Chromium (Debian's chromium, installed by ops/parity/chromium/setup.sh,
// driven by playwright-core): the page loads with seeded data and shows the API's numbers, and an
// experiment created through its form appears in the API. With UPDATE_SCREENSHOTS=1 it refreshes the
// README screenshot; otherwise the screenshot goes to the temp dir, so a test run leaves the tree clean.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { EventPublisher } from '@recsys/messaging';
import { eventually, getJson, startTestSuite } from '../support/suite';
import { ADMIN, adminPost, runTraffic, type Produce } from './experiments.flow';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS === '1' ? join(__dirname, '../../apps/experiments/README-dashboard.png') : join(tmpdir(), 'recsys-experiments-dashboard.png');
const pct = (x: number, d = 2) => `${(100 * x).toFixed(d)}%`;

describe('experiments dashboard in headless Chromium', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run ops/parity/chromium/setup.sh (npm test does) before this spec`);
    suite = await startTestSuite({ APPS: 'experiments', ADMIN_TOKEN: ADMIN, LOG_LEVEL: process.env.DEBUG_LOG ?? 'warn' });
    url = suite.url('experiments');
    const publisher = new EventPublisher(suite.infra.bus);
    const produce = ((topic: string, events: unknown[]) => publisher.publish(topic as never, events as never)) as Produce;
    const c = await adminPost(`${url}/v1/experiments`, {
      key: 'adload-two-slots',
      name: 'Two ad slots per fetch',
      start: true,
      primaryMetric: 'ctr',
      variants: [
        { key: 'control', weight: 1, overrides: { adLoadPolicy: { '1': 0.5, '2': 0.5 } } },
        { key: 'treatment', weight: 1, overrides: { adLoadPolicy: 2 } },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const exp = await runTraffic({ experimentsUrl: url, experiment: 'adload-two-slots', users: 300, days: 5, lift: 0.25, produce, seed: 4 });
    let last: unknown;
    await eventually(async () => {
      const t0 = Date.now();
      const b = await getJson(`${url}/v1/experiments/adload-two-slots/results`).then(
        (r) => r.body,
        (e) => {
          throw new Error(`${(e as Error).message} ${String((e as { cause?: unknown }).cause)} after ${Date.now() - t0} ms`);
        },
      );
      last = { variants: b.variants, days: b.daily?.points?.length, expected: exp.users };
      return b.variants.every((v: { key: string; users: number }) => v.users === exp.users[v.key]) && b.daily.points.length === 5;
    }, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await suite?.close();
  });

  it('loads with the seeded experiment and shows the numbers of the API: users, means, lift, chance to win, SRM, plot, OPE', async () => {
    const api = (await getJson(`${url}/v1/experiments/adload-two-slots/results`)).body;
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/dashboard#adload-two-slots`);
    await page.waitForSelector('body[data-loaded="adload-two-slots"]', { timeout: 20_000 });
    for (const v of api.variants) assert.equal(await page.textContent(`[data-testid="users-${v.key}"]`), String(v.users));
    const t = api.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === 'treatment');
    assert.equal(await page.textContent('[data-testid="lift-treatment"]'), pct(t.lift));
    assert.equal(await page.textContent('[data-testid="ctw-treatment"]'), pct(t.chanceToWin, 1));
    assert.equal(await page.textContent('[data-testid="lift-control"]'), 'baseline');
    const c = api.metrics.find((m: { metric: string; variant: string }) => m.metric === 'ctr' && m.variant === 'control');
    assert.equal(await page.textContent('[data-testid="mean-ctr-control"]'), c.mean.toFixed(4));
    assert.match((await page.textContent('[data-testid="srm"]')) ?? '', /No sample ratio mismatch/);
    // The plot: an SVG with the lift line and the confidence-sequence band, one point per day.
    assert.ok((await page.locator('[data-testid="lift-chart"] svg path').count()) > 5);
    assert.equal(await page.locator('[data-testid="metric-table"] tbody tr').count(), api.metrics.length);
    const ope = (await getJson(`${url}/v1/experiments/adload-two-slots/ope`)).body;
    const snips = ope.estimates.find((e: { variant: string; estimator: string }) => e.variant === 'treatment' && e.estimator === 'snips');
    assert.equal(await page.textContent('[data-testid="ope-treatment-snips"]'), snips.value.toFixed(4));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('creates and starts an experiment through the form; it appears in the API', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${url}/dashboard`);
    await page.waitForSelector('body[data-loaded]', { timeout: 20_000 });
    await page.fill('input[name="key"]', 'ui-made');
    await page.fill('input[name="name"]', 'Made in the UI');
    await page.fill('input[name="treatment"]', 'bold');
    await page.fill('input[name="share"]', '0.3');
    await page.fill('textarea[name="overrides"]', '{"retrievalKind": "spann", "limit": 30}');
    await page.fill('input[name="layer"]', 'retrieval');
    await page.fill('input[name="surfaces"]', 'home, search');
    await page.fill('input[name="token"]', ADMIN);
    await page.click('#create button[type="submit"]');
    await page.locator('[data-testid="create-status"]', { hasText: /^Created/ }).waitFor({ timeout: 10_000 });
    const e = await getJson(`${url}/v1/experiments/ui-made`);
    assert.equal(e.status, 200);
    assert.equal(e.body.status, 'running');
    assert.equal(e.body.name, 'Made in the UI');
    assert.deepEqual(
      e.body.variants.map((v: { key: string; weight: number }) => [v.key, v.weight]),
      [
        ['control', 0.7],
        ['bold', 0.3],
      ],
    );
    assert.deepEqual(e.body.variants[1].overrides, { retrievalKind: 'spann', limit: 30 });
    assert.deepEqual(e.body.targeting, { surfaces: ['home', 'search'] });
    assert.equal(e.body.layer.key, 'retrieval');
    // The list shows it, and a wrong token is refused with the API's problem.
    await page.waitForSelector('#list tr[data-key="ui-made"]');
    await page.fill('input[name="key"]', 'ui-denied');
    await page.fill('input[name="token"]', 'wrong-token-wrong-token');
    await page.click('#create button[type="submit"]');
    await page.locator('[data-testid="create-status"]', { hasText: /^Failed/ }).waitFor({ timeout: 10_000 });
    assert.equal((await getJson(`${url}/v1/experiments/ui-denied`)).status, 404);
    await page.close();
  });
});
