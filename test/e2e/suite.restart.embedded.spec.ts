import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig, startSuite, type RunningSuite } from '@recsys/platform';
import { ALL_APPS } from '../../apps/suite/apps';
import { demoModelDir } from '../../apps/suite/demo-seed';
import { eventually, getJson } from '../support/suite';

/**
 * The embedded stack keeps its database in DATA_DIR by default (PGLITE_DIR = `${DATA_DIR}/pglite`):
 * a model registered and an experiment created before a restart of the suite on the same DATA_DIR
 * are there after it, as they are after a restart of `npm start`.
 */
describe('suite restart on the same DATA_DIR (embedded database kept on disk by default)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recsys-restart-'));
  let suite: RunningSuite | undefined;
  const start = async () => {
    // No PGLITE_DIR given: the default is what is tested.
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'error', SEED_DEMO: 'false', APPS: 'ranking,experiments', RANKING_PORT: '0', EXPERIMENTS_PORT: '0' });
    assert.equal(config.PGLITE_DIR, join(dataDir, 'pglite'));
    suite = await startSuite(config, ALL_APPS, createLogger(config.LOG_LEVEL, { test: true }));
    return (app: string) => suite!.apps.find((a) => a.name === app)!.url;
  };
  afterAll(async () => suite?.close());

  it('PGLITE_DIR defaults to DATA_DIR/pglite; memory keeps it in memory; a given directory is used as is', () => {
    assert.equal(loadConfig({ DATA_DIR: '/srv/recsys' }).PGLITE_DIR, '/srv/recsys/pglite');
    assert.equal(loadConfig({}).PGLITE_DIR, join('.data', 'pglite'));
    assert.equal(loadConfig({ PGLITE_DIR: 'memory' }).PGLITE_DIR, undefined);
    assert.equal(loadConfig({ PGLITE_DIR: '/var/lib/pg' }).PGLITE_DIR, '/var/lib/pg');
  });

  it('finds the registered live model and the running experiment after a restart', async () => {
    const modelDir = demoModelDir();
    assert.ok(modelDir, 'apps/suite/demo-model is shipped');
    const version = (JSON.parse(readFileSync(join(modelDir, 'VERSION.json'), 'utf8')) as { version: string }).version;
    let url = await start();
    const post = (u: string, body?: unknown) => getJson(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const reg = await post(`${url('ranking')}/v1/models/ctr/versions/${version}`, {
      artifactBase64: readFileSync(join(modelDir, 'model.onnx')).toString('base64'),
      featureSpec: JSON.parse(readFileSync(join(modelDir, 'feature-spec.json'), 'utf8')),
      metrics: JSON.parse(readFileSync(join(modelDir, 'metrics.json'), 'utf8')),
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const promoted = await post(`${url('ranking')}/v1/models/ctr/versions/${version}/promote`, { to: 'live' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    const exp = await post(`${url('experiments')}/v1/experiments`, {
      key: 'restart-check',
      name: 'Restart check',
      variants: [
        { key: 'a', weight: 1, overrides: { slatePolicy: 'greedy' } },
        { key: 'b', weight: 1, overrides: { slatePolicy: 'in-slate-ts' } },
      ],
      start: true,
    });
    assert.ok([200, 201].includes(exp.status), JSON.stringify(exp.body));

    await suite!.close();
    suite = undefined;
    assert.ok(existsSync(join(dataDir, 'pglite')), 'the database files are in DATA_DIR/pglite');

    url = await start();
    const model = await getJson(`${url('ranking')}/v1/models/ctr`);
    assert.equal(model.status, 200, JSON.stringify(model.body));
    assert.equal(model.body.live, version);
    // And the replica serves it again (loaded from the registry at start).
    await eventually(async () => (await getJson(`${url('ranking')}/v1/models/ctr`)).body.serving?.live?.version === version, 60_000, 200);
    const again = await getJson(`${url('experiments')}/v1/experiments/restart-check`);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.status, 'running');
    const assigned = await post(`${url('experiments')}/v1/assignments`, { userId: 'u-restart' });
    assert.ok(
      assigned.body.assignments.some((a: { experiment: string }) => a.experiment === 'restart-check'),
      JSON.stringify(assigned.body),
    );
  });
});
