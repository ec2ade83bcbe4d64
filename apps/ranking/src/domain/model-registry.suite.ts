import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import { migrate } from '@recsys/infra/sql/migrate';
import { DomainError } from '@recsys/platform/problem';
import { ModelRegistry } from './model-registry';

const art = (s: string) => Buffer.from(`artefact ${s}`);
const sum = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rejectsWith(p: Promise<unknown>, code: string, status: number) {
  await assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === code && e.status === status);
}

/** Registry semantics, run against PGlite and real PostgreSQL. `make` returns an empty database. */
export function modelRegistrySuite(label: string, make: () => Promise<SqlDatabase>, modelName = () => `m${Math.random().toString(36).slice(2, 8)}`) {
  describe(`ModelRegistry on ${label}`, () => {
    let db: SqlDatabase;
    let reg: ModelRegistry;
    beforeAll(async () => {
      db = await make();
      await migrate(db);
      reg = new ModelRegistry(db);
    });
    afterAll(async () => {
      await db.close();
    });
    const register = (name: string, version: string, body = art(version)) =>
      reg.register({ name, version, artifact: body, checksum: sum(body), featureSpec: { specVersion: 1, v: version }, metrics: { auc: 0.7 } });

    it('registers versions as staged, idempotently for the same artefact, 409 for another', async () => {
      const name = modelName();
      const r = await register(name, 'v1');
      assert.equal(r.created, true);
      assert.equal(r.version.status, 'staged');
      assert.equal(r.version.checksum, sum(art('v1')));
      assert.equal(r.version.artifactBytes, art('v1').length);
      assert.deepEqual(r.version.metrics, { auc: 0.7 });
      assert.deepEqual(
        r.changes.map((c) => c.action),
        ['registered'],
      );
      const again = await register(name, 'v1');
      assert.equal(again.created, false);
      assert.deepEqual(again.changes, []);
      await rejectsWith(register(name, 'v1', art('other')), 'version_exists', 409);
      assert.deepEqual((await reg.artifact(name, 'v1')).artifact, art('v1'));
    });

    it('promote live retires the old live; rollback walks back through the promotions', async () => {
      const name = modelName();
      for (const v of ['v1', 'v2', 'v3']) await register(name, v);
      await rejectsWith(reg.rollback(name), 'no_live_model', 409);
      let r = await reg.promote(name, 'v1', 'live');
      assert.deepEqual(
        r.changes.map((c) => [c.version, c.action]),
        [['v1', 'promoted_live']],
      );
      await rejectsWith(reg.rollback(name), 'no_previous_version', 409);
      r = await reg.promote(name, 'v2', 'live');
      assert.deepEqual(
        r.changes.map((c) => [c.version, c.action]),
        [
          ['v1', 'retired'],
          ['v2', 'promoted_live'],
        ],
      );
      assert.equal(r.version.previousLive, 'v1');
      await reg.promote(name, 'v3', 'live');
      assert.deepEqual(await reg.heads(name), { live: { version: 'v3', checksum: sum(art('v3')) } });
      // Promoting the live version again changes nothing.
      assert.deepEqual((await reg.promote(name, 'v3', 'live')).changes, []);

      const rb = await reg.rollback(name);
      assert.equal(rb.from, 'v3');
      assert.equal(rb.version.version, 'v2');
      assert.deepEqual(
        rb.changes.map((c) => [c.version, c.action]),
        [
          ['v3', 'retired'],
          ['v2', 'rolled_back'],
        ],
      );
      assert.equal((await reg.heads(name)).live?.version, 'v2');
      // v2 keeps the version it replaced when it was promoted: a second rollback reaches v1, not v3.
      assert.equal((await reg.rollback(name)).version.version, 'v1');
      await rejectsWith(reg.rollback(name), 'no_previous_version', 409);
      const d = await reg.describe(name);
      assert.equal(d.live, 'v1');
      assert.deepEqual(d.versions.map((v) => [v.version, v.status]).sort(), [
        ['v1', 'live'],
        ['v2', 'retired'],
        ['v3', 'retired'],
      ]);
      assert.equal(d.events[0].action, 'rolled_back');
      assert.equal(d.events[0].version, 'v1');
    });

    it('one shadow at a time; the live version cannot be shadow nor retired; a shadow promoted live leaves the shadow slot', async () => {
      const name = modelName();
      for (const v of ['a', 'b', 'c']) await register(name, v);
      await reg.promote(name, 'a', 'live');
      await rejectsWith(reg.promote(name, 'a', 'shadow'), 'model_is_live', 409);
      await rejectsWith(reg.retire(name, 'a'), 'model_is_live', 409);
      await reg.promote(name, 'b', 'shadow');
      const r = await reg.promote(name, 'c', 'shadow');
      assert.deepEqual(
        r.changes.map((c) => [c.version, c.action]),
        [
          ['b', 'retired'],
          ['c', 'promoted_shadow'],
        ],
      );
      assert.deepEqual(Object.keys(await reg.heads(name)).sort(), ['live', 'shadow']);
      await reg.promote(name, 'c', 'live');
      const heads = await reg.heads(name);
      assert.equal(heads.live?.version, 'c');
      assert.equal(heads.shadow, undefined);
      assert.deepEqual((await reg.retire(name, 'a')).changes, [], 'already retired');
      await reg.promote(name, 'b', 'shadow');
      assert.equal((await reg.retire(name, 'b')).version.status, 'retired');
      assert.equal((await reg.heads(name)).shadow, undefined);
    });

    it('unknown names and versions are 404s', async () => {
      await rejectsWith(reg.promote('nope', 'v1', 'live'), 'model_not_found', 404);
      const name = modelName();
      await register(name, 'v1');
      await rejectsWith(reg.promote(name, 'v9', 'live'), 'model_version_not_found', 404);
      await rejectsWith(reg.describe('nope'), 'model_not_found', 404);
      await rejectsWith(reg.artifact(name, 'v9'), 'model_version_not_found', 404);
    });

    it('the schema itself forbids two live or two shadow versions of one name, and unknown statuses', async () => {
      const name = modelName();
      for (const v of ['x', 'y']) await register(name, v);
      await db.query(`UPDATE model_versions SET status = 'live' WHERE name = $1 AND version = 'x'`, [name]);
      await assert.rejects(db.query(`UPDATE model_versions SET status = 'live' WHERE name = $1 AND version = 'y'`, [name]), /unique|duplicate/i);
      await db.query(`UPDATE model_versions SET status = 'shadow' WHERE name = $1 AND version = 'y'`, [name]);
      await assert.rejects(db.query(`UPDATE model_versions SET status = 'serving' WHERE name = $1 AND version = 'y'`, [name]), /check/i);
    });

    it('concurrent promotions of one name are serialised: exactly one live at the end', async () => {
      const name = modelName();
      const versions = Array.from({ length: 6 }, (_, i) => `c${i}`);
      for (const v of versions) await register(name, v);
      await Promise.all(versions.map((v) => reg.promote(name, v, 'live')));
      const d = await reg.describe(name);
      assert.equal(d.versions.filter((v) => v.status === 'live').length, 1);
      assert.equal(d.versions.filter((v) => v.status === 'retired').length, versions.length - 1);
    });
  });
}
