import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlContract } from './sql.contract';
import { PgliteSqlDatabase } from './sql.pglite.adapter';
import { appliedMigrations, loadMigrationFiles, migrate, migrationsDir } from './migrate';

sqlContract('pglite (in memory)', () => PgliteSqlDatabase.create());

describe('PgliteSqlDatabase specifics', () => {
  let db: PgliteSqlDatabase;
  beforeAll(async () => {
    db = await PgliteSqlDatabase.create();
  });
  afterAll(async () => {
    await db.close();
  });

  it('runs transactions one after another, never overlapping', async () => {
    const spans: Array<[number, number]> = [];
    let clock = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        db.transaction(async (tx) => {
          const start = clock++;
          await tx.query('SELECT 1');
          await new Promise((r) => setTimeout(r, 5));
          await tx.query('SELECT 2');
          spans.push([start, clock++]);
        }),
      ),
    );
    // With a shared single session, overlap would mean one transaction's statements ran inside another.
    for (const [start, end] of spans) assert.equal(end, start + 1, JSON.stringify(spans));
  });

  it('rejects a call on the database from inside its own transaction instead of deadlocking', async () => {
    await db.exec('CREATE TABLE reentry (x int)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO reentry VALUES (1)');
        await db.query('SELECT 1');
      }),
      /use the tx executor/,
    );
    assert.equal((await db.query('SELECT x FROM reentry')).rowCount, 0);
    // Work started in the transaction but run after it ended may use the database.
    let late: Promise<unknown> | undefined;
    await db.transaction(async () => {
      late = new Promise((r) => setTimeout(r, 10)).then(() => db.query('SELECT 1'));
    });
    await late;
  });

  it('keeps data in a directory across close and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-persist-'));
    try {
      const first = await PgliteSqlDatabase.create(join(dir, 'db'));
      assert.deepEqual(
        await migrate(first),
        loadMigrationFiles(migrationsDir()).map((f) => f.name),
      );
      await first.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)', ['c', 'e']);
      await first.close();

      const second = await PgliteSqlDatabase.create(join(dir, 'db'));
      try {
        assert.ok((await appliedMigrations(second)).includes('0001_platform'));
        assert.equal((await second.query('SELECT 1 FROM processed_events WHERE consumer = $1', ['c'])).rowCount, 1);
        assert.deepEqual(await migrate(second), []);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps separate in-memory databases apart', async () => {
    const other = await PgliteSqlDatabase.create();
    try {
      await db.exec('CREATE TABLE only_here (x int)');
      assert.equal((await other.query("SELECT to_regclass('only_here') IS NULL AS absent")).rows[0].absent, true);
    } finally {
      await other.close();
    }
  });
});
