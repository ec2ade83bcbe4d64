import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from './sql.port';
import { appliedMigrations, loadMigrationFiles, migrate, migrateDown, migrationsDir } from './migrate';

/**
 * migrate() over an adapter; part of sqlContract. `fresh` gives a new empty database or schema.
 * Fixture folders use distinct migration and table names, so they can share one database.
 */
export function migrationContract(fresh: () => Promise<SqlDatabase>): void {
  describe('migrations', () => {
    const dirs: string[] = [];
    const fixture = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'sql-migrations-'));
      for (const [file, body] of Object.entries(files)) writeFileSync(join(dir, file), body);
      dirs.push(dir);
      return dir;
    };
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await fresh();
    });
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('applies every migration once, in number order; a second run applies nothing; down reverts the newest', async () => {
      const dir = fixture({
        '0001_alpha.up.sql': 'CREATE TABLE mig_alpha (id int PRIMARY KEY);',
        '0001_alpha.down.sql': 'DROP TABLE mig_alpha;',
        // Depends on 0001 and 0002: wrong order would fail.
        '0010_gamma.up.sql': 'CREATE TABLE mig_gamma (id int REFERENCES mig_beta (id)); INSERT INTO mig_gamma VALUES (1);',
        '0010_gamma.down.sql': 'DROP TABLE mig_gamma;',
        '0002_beta.up.sql': 'CREATE TABLE mig_beta (id int PRIMARY KEY REFERENCES mig_alpha (id));\nINSERT INTO mig_alpha VALUES (1);\nINSERT INTO mig_beta VALUES (1);',
        '0002_beta.down.sql': 'DROP TABLE mig_beta;',
      });
      const lines: string[] = [];
      assert.deepEqual(await migrate(db, dir, (l) => lines.push(l)), ['0001_alpha', '0002_beta', '0010_gamma']);
      assert.deepEqual(lines, ['applied 0001_alpha', 'applied 0002_beta', 'applied 0010_gamma']);
      assert.equal((await db.query('SELECT id FROM mig_gamma')).rowCount, 1);

      assert.deepEqual(await migrate(db, dir), []);
      assert.deepEqual(await appliedMigrations(db), ['0001_alpha', '0002_beta', '0010_gamma']);

      assert.deepEqual(await migrateDown(db, dir), ['0010_gamma']);
      assert.equal(await relationExists(db, 'mig_gamma'), false);
      assert.equal(await relationExists(db, 'mig_beta'), true);
      assert.deepEqual(await appliedMigrations(db), ['0001_alpha', '0002_beta']);
      assert.deepEqual(await migrate(db, dir), ['0010_gamma']);
    });

    it('a failing migration rolls back the whole run', async () => {
      const dir = fixture({
        '0001_fine.up.sql': 'CREATE TABLE mig_fine (id int);',
        '0002_broken.up.sql': 'INSERT INTO mig_fine VALUES (1);\nINSERT INTO no_such_table VALUES (1);',
      });
      await assert.rejects(migrate(db, dir), /0002_broken/);
      assert.equal(await relationExists(db, 'mig_fine'), false);
      const applied = await appliedMigrations(db);
      assert.ok(!applied.includes('0001_fine') && !applied.includes('0002_broken'), applied.join(','));
    });

    it('refuses to revert a migration that has no .down.sql, and keeps its record', async () => {
      const dir = fixture({ '0001_oneway.up.sql': 'CREATE TABLE mig_oneway (id int);' });
      assert.deepEqual(await migrate(db, dir), ['0001_oneway']);
      await assert.rejects(migrateDown(db, dir), /no \.down\.sql/);
      assert.ok((await appliedMigrations(db)).includes('0001_oneway'));
      assert.equal(await relationExists(db, 'mig_oneway'), true);
    });

    it('concurrent runs apply each migration exactly once', async () => {
      const dir = fixture({
        // The sleep keeps the first run inside its transaction while the others arrive.
        '0001_race.up.sql': 'CREATE TABLE mig_race (n int); SELECT pg_sleep(0.2);',
        '0002_race_mark.up.sql': 'INSERT INTO mig_race VALUES (1);',
      });
      const runs = await Promise.all([migrate(db, dir), migrate(db, dir), migrate(db, dir)]);
      assert.deepEqual(runs.flat().sort(), ['0001_race', '0002_race_mark']);
      assert.equal(runs.filter((r) => r.length > 0).length, 1, `one run applies all: ${JSON.stringify(runs)}`);
      assert.deepEqual((await db.query('SELECT n FROM mig_race')).rows, [{ n: 1 }]);
    });

    it("the repository's migrations apply once, give usable tables, and revert to an empty schema", async () => {
      const own = await fresh();
      const names = loadMigrationFiles(migrationsDir()).map((f) => f.name);
      assert.ok(names.includes('0001_platform'));
      assert.deepEqual(await migrate(own), names);
      assert.deepEqual(await migrate(own), []);

      // processed_events: the idempotency ledger answers "already done" with rowCount 0.
      const mark = 'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING';
      assert.equal((await own.query(mark, ['c1', 'e1'])).rowCount, 1);
      assert.equal((await own.query(mark, ['c1', 'e1'])).rowCount, 0);
      assert.equal((await own.query(mark, ['c2', 'e1'])).rowCount, 1);

      const payload = Buffer.from('{"bad":', 'utf8');
      const ins = await own.query<{ id: string }>('INSERT INTO dead_letters (topic, partition, "offset", key, reason, payload) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [
        'catalog.items',
        3,
        '9007199254740993',
        'item-1',
        'invalid JSON',
        payload,
      ]);
      assert.equal(typeof ins.rows[0].id, 'string'); // bigserial is int8
      const dl = await own.query<{ offset: string; payload: Buffer; received_at: Date }>('SELECT "offset", payload, received_at FROM dead_letters WHERE id = $1', [ins.rows[0].id]);
      assert.equal(dl.rows[0].offset, '9007199254740993');
      assert.ok(payload.equals(dl.rows[0].payload));
      assert.ok(dl.rows[0].received_at instanceof Date);

      assert.deepEqual(await migrateDown(own, undefined, undefined, 'all'), [...names].reverse());
      const left = await own.query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() ORDER BY c.relname`,
      );
      assert.deepEqual(
        left.rows.map((r) => r.relname),
        ['schema_migrations', 'schema_migrations_pkey'],
        'every .down.sql together must remove everything the .up.sql files created',
      );
    });
  });
}

async function relationExists(db: SqlDatabase, name: string): Promise<boolean> {
  const r = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
  return r.rows[0].found;
}
