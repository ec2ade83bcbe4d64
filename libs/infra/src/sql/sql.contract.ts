import assert from 'node:assert/strict';
import type { SqlDatabase } from './sql.port';
import { migrationContract } from './migrate.contract';

/**
 * Behaviour every SqlDatabase adapter must show. `make` returns a new, empty database (or an
 * isolated schema of one); the suite closes what it made.
 */
export function sqlContract(name: string, make: () => Promise<SqlDatabase>): void {
  describe(`SqlDatabase contract: ${name}`, () => {
    const opened: SqlDatabase[] = [];
    const fresh = async () => {
      const db = await make();
      opened.push(db);
      return db;
    };
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await fresh();
    });
    afterAll(async () => {
      for (const d of opened) await d.close();
    });

    describe('queries', () => {
      it('binds $n parameters and reports rowCount', async () => {
        const t = table('params');
        await db.exec(`CREATE TABLE ${t} (id int PRIMARY KEY, label text)`);
        for (const [id, label] of [
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
        ] as const) {
          const ins = await db.query(`INSERT INTO ${t} (id, label) VALUES ($1, $2)`, [id, label]);
          assert.equal(ins.rowCount, 1);
          assert.deepEqual(ins.rows, []);
        }
        const upd = await db.query(`UPDATE ${t} SET label = upper(label) WHERE id >= $1`, [2]);
        assert.equal(upd.rowCount, 2);
        const sel = await db.query<{ id: number; label: string }>(`SELECT id, label FROM ${t} WHERE id <> $1 ORDER BY id`, [1]);
        assert.deepEqual(sel.rows, [
          { id: 2, label: 'B' },
          { id: 3, label: 'C' },
        ]);
        assert.equal(sel.rowCount, 2);
        const sum = await db.query<{ s: number }>('SELECT $1::int + $2::int AS s', [2, 3]);
        assert.equal(sum.rows[0].s, 5);
      });

      it('exec runs several statements in one call', async () => {
        const t = table('exec');
        await db.exec(`CREATE TABLE ${t} (x int); INSERT INTO ${t} VALUES (1); INSERT INTO ${t} VALUES (2);`);
        const r = await db.query<{ n: string; total: string }>(`SELECT count(*) AS n, sum(x) AS total FROM ${t}`);
        // count(*) and sum(int) are int8: strings, as node-postgres returns them.
        assert.deepEqual(r.rows, [{ n: '2', total: '3' }]);
      });

      it('maps values like node-postgres: int, int8, numeric, text, jsonb, bytea, timestamptz, boolean, null', async () => {
        const t = table('types');
        await db.exec(`CREATE TABLE ${t} (i int, b bigint, n numeric, d float8, s text, j jsonb, ja jsonb, by bytea, ts timestamptz, f boolean, z text)`);
        const json = { a: 1, nested: { list: [1, 'two', null], ok: true } };
        const bytes = Buffer.from([0, 1, 127, 128, 254, 255]);
        const at = new Date('2024-05-06T07:08:09.123Z');
        await db.query(`INSERT INTO ${t} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
          42,
          '9007199254740993', // beyond 2^53: must not be rounded
          '12.50',
          0.25,
          "héllo ✓ 'quoted'",
          json,
          JSON.stringify([1, 'x']), // a JSON array is bound as text (see sql.pg.adapter.ts)
          bytes,
          at,
          true,
          null,
        ]);
        const r = await db.query<Record<string, unknown>>(`SELECT * FROM ${t}`);
        assert.equal(r.rows.length, 1);
        const row = r.rows[0];
        assert.equal(row.i, 42);
        assert.equal(row.b, '9007199254740993');
        assert.equal(row.n, '12.50');
        assert.equal(row.d, 0.25);
        assert.equal(row.s, "héllo ✓ 'quoted'");
        assert.deepEqual(row.j, json);
        assert.deepEqual(row.ja, [1, 'x']);
        assert.ok(Buffer.isBuffer(row.by), `bytea should come back as a Buffer, got ${Object.prototype.toString.call(row.by)}`);
        assert.ok(bytes.equals(row.by as Buffer));
        assert.ok(row.ts instanceof Date);
        assert.equal((row.ts as Date).getTime(), at.getTime());
        assert.equal(row.f, true);
        assert.equal(row.z, null);

        const filtered = await db.query(`SELECT 1 FROM ${t} WHERE f = $1 AND z IS NULL AND by = $2 AND j @> $3`, [true, bytes, { a: 1 }]);
        assert.equal(filtered.rows.length, 1, 'boolean, bytea and jsonb parameters compare equal to what was stored');
      });

      it('reports SQL errors with their SQLSTATE code and stays usable', async () => {
        const t = table('errors');
        await db.exec(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
        await db.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
        await assert.rejects(db.query(`INSERT INTO ${t} VALUES ($1)`, [1]), (e: { code?: string }) => e.code === '23505');
        await assert.rejects(db.query('SELEKT 1'), (e: { code?: string }) => e.code === '42601');
        await assert.rejects(db.exec(`INSERT INTO ${t} VALUES (2); INSERT INTO ${t} VALUES (1);`), (e: { code?: string }) => e.code === '23505');
        const r = await db.query<{ id: number }>(`SELECT id FROM ${t} ORDER BY id`);
        // exec runs its statements as one implicit transaction: the failed batch left nothing behind.
        assert.deepEqual(r.rows, [{ id: 1 }]);
      });
    });

    describe('transactions', () => {
      it('commits and returns what the callback returned', async () => {
        const t = table('commit');
        await db.exec(`CREATE TABLE ${t} (x int)`);
        const out = await db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
          await tx.exec(`INSERT INTO ${t} VALUES (2); INSERT INTO ${t} VALUES (3);`);
          const r = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
          return r.rows[0].n;
        });
        assert.equal(out, '3');
        assert.equal((await db.query(`SELECT x FROM ${t}`)).rowCount, 3);
      });

      it('rolls back when the callback throws, and rethrows the same error', async () => {
        const t = table('rollback');
        await db.exec(`CREATE TABLE ${t} (x int)`);
        const boom = new Error('boom');
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
            throw boom;
          }),
          (e) => e === boom,
        );
        assert.equal((await db.query(`SELECT x FROM ${t}`)).rowCount, 0);
      });

      it('does not report success for a transaction a swallowed SQL error aborted', async () => {
        const t = table('aborted');
        await db.exec(`CREATE TABLE ${t} (x int PRIMARY KEY)`);
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(`INSERT INTO ${t} VALUES (1)`);
            await tx.query(`INSERT INTO ${t} VALUES (1)`).catch(() => undefined);
            return 'looks fine';
          }),
        );
        assert.equal((await db.query(`SELECT x FROM ${t}`)).rowCount, 0);
      });

      it('refuses a transaction executor used after its transaction ended', async () => {
        let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
        await db.transaction(async (tx) => {
          leaked = tx;
        });
        await assert.rejects(leaked!.query('SELECT 1'));
      });

      it('never runs a query from outside a transaction inside it', async () => {
        const t = table('outside');
        await db.exec(`CREATE TABLE ${t} (who text)`);
        const inTx = db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES ('tx')`);
          await sleep(60);
          throw new Error('roll back');
        });
        await sleep(10);
        // Issued while the transaction is open; must not be rolled back with it.
        const outside = db.query(`INSERT INTO ${t} VALUES ('outside')`);
        await assert.rejects(inTx, /roll back/);
        await outside;
        assert.deepEqual((await db.query(`SELECT who FROM ${t}`)).rows, [{ who: 'outside' }]);
      });

      it('concurrent read-modify-write transactions lose no update', async () => {
        const t = table('counter');
        await db.exec(`CREATE TABLE ${t} (id int PRIMARY KEY, n int NOT NULL); INSERT INTO ${t} VALUES (1, 0);`);
        const workers = 8;
        await Promise.all(
          Array.from({ length: workers }, () =>
            db.transaction(async (tx) => {
              const r = await tx.query<{ n: number }>(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
              await sleep(5); // widen the window a lost update would need
              await tx.query(`UPDATE ${t} SET n = $1 WHERE id = 1`, [r.rows[0].n + 1]);
            }),
          ),
        );
        assert.deepEqual((await db.query(`SELECT n FROM ${t}`)).rows, [{ n: workers }]);
      });
    });

    describe('lifecycle', () => {
      it('ping resolves on an open database; ping and queries reject once it is closed; close is idempotent', async () => {
        const own = await fresh();
        await own.ping();
        await own.close();
        await assert.rejects(own.ping());
        await assert.rejects(own.query('SELECT 1'));
        await assert.rejects(own.transaction(async () => undefined));
        await own.close();
      });
    });

    migrationContract(fresh);
  });
}

let tableSeq = 0;
/** A table name no other test of this run uses (PGlite runs share one database). */
function table(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${tableSeq++}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
