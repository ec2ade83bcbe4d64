import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realInfra } from '@recsys/testing/infra';
import { sqlContract } from './sql.contract';
import { PgSqlDatabase } from './sql.pg.adapter';
import { appliedMigrations, migrate } from './migrate';

const { databaseUrl } = realInfra();
const admin = new PgSqlDatabase(databaseUrl, 2);
const schemas: string[] = [];
let schemaSeq = 0;

/** A new empty schema and a database whose connections use it (search_path), so runs never collide. */
async function isolated(poolSize = 10): Promise<{ db: PgSqlDatabase; schema: string; url: string }> {
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${schemaSeq++}`;
  await admin.exec(`CREATE SCHEMA ${schema}`);
  schemas.push(schema);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { db: new PgSqlDatabase(url.toString(), poolSize), schema, url: url.toString() };
}

afterAll(async () => {
  for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.close();
});

sqlContract('pg (real PostgreSQL, one schema per database)', async () => (await isolated()).db);

describe('PgSqlDatabase specifics', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pg-replicas-'));
    writeFileSync(join(dir, '0001_replica.up.sql'), 'CREATE TABLE replica_runs (n int); SELECT pg_sleep(0.3);');
    writeFileSync(join(dir, '0002_replica_mark.up.sql'), 'INSERT INTO replica_runs VALUES (1);');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replicas starting at once (separate pools) apply each migration exactly once', async () => {
    const first = await isolated(2);
    const replicas = [first.db, new PgSqlDatabase(first.url, 2), new PgSqlDatabase(first.url, 2)];
    try {
      const started = Date.now();
      const runs = await Promise.all(replicas.map((db) => migrate(db, dir)));
      assert.deepEqual(runs.flat().sort(), ['0001_replica', '0002_replica_mark']);
      assert.equal(runs.filter((r) => r.length > 0).length, 1, JSON.stringify(runs));
      assert.ok(Date.now() - started >= 300, 'the migration with pg_sleep ran');
      assert.deepEqual((await first.db.query('SELECT n FROM replica_runs')).rows, [{ n: 1 }]);
      assert.deepEqual(await appliedMigrations(replicas[1]), ['0001_replica', '0002_replica_mark']);
    } finally {
      for (const db of replicas) await db.close();
    }
  });

  it('the migration lock is per schema: another schema migrates while one run holds its lock', async () => {
    const slow = await isolated(2);
    const other = await isolated(2);
    const quick = mkdtempSync(join(tmpdir(), 'pg-quick-'));
    writeFileSync(join(quick, '0001_quick.up.sql'), 'CREATE TABLE quick (n int);');
    const held = mkdtempSync(join(tmpdir(), 'pg-held-'));
    writeFileSync(join(held, '0001_held.up.sql'), 'SELECT pg_sleep(1.5);');
    try {
      let slowDone = false;
      const slowRun = migrate(slow.db, held).finally(() => (slowDone = true));
      await new Promise((r) => setTimeout(r, 200)); // slowRun now holds its schema's lock inside pg_sleep
      assert.deepEqual(await migrate(other.db, quick), ['0001_quick']);
      assert.equal(slowDone, false, "the other schema's run finished first, so it did not wait on that lock");
      assert.deepEqual(await slowRun, ['0001_held']);
    } finally {
      rmSync(quick, { recursive: true, force: true });
      rmSync(held, { recursive: true, force: true });
      await slow.db.close();
      await other.db.close();
    }
  });

  it('ping rejects for an unreachable server, within the connection timeout', async () => {
    const db = new PgSqlDatabase('postgres://recsys:recsys@127.0.0.1:1/recsys', 1, { connectionTimeoutMillis: 1000 });
    try {
      const started = Date.now();
      await assert.rejects(db.ping());
      assert.ok(Date.now() - started < 3000);
    } finally {
      await db.close();
    }
  });

  it('ping rejects for a database that does not exist, with its SQLSTATE', async () => {
    const url = new URL(databaseUrl);
    url.pathname = '/no_such_database_here';
    const db = new PgSqlDatabase(url.toString(), 1);
    try {
      await assert.rejects(db.ping(), (e: { code?: string }) => e.code === '3D000');
    } finally {
      await db.close();
    }
  });

  it('a transaction holds one connection: its session settings and temp tables stay with it', async () => {
    const { db } = await isolated(4);
    try {
      const seen = await db.transaction(async (tx) => {
        await tx.exec("SET LOCAL application_name = 'tx-probe'; CREATE TEMP TABLE probe (x int) ON COMMIT DROP;");
        const pids = new Set<number>();
        for (let i = 0; i < 5; i++) {
          const r = await tx.query<{ pid: number; app: string }>("SELECT pg_backend_pid() AS pid, current_setting('application_name') AS app FROM (SELECT 1 FROM probe UNION ALL SELECT 1) s LIMIT 1");
          pids.add(r.rows[0].pid);
          assert.equal(r.rows[0].app, 'tx-probe');
        }
        return pids.size;
      });
      assert.equal(seen, 1);
    } finally {
      await db.close();
    }
  });
});
