import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { PGlite, types, type PGliteOptions, type Results, type Transaction } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor, SqlResult } from './sql.port';

/**
 * SqlDatabase over PGlite (Postgres compiled to WASM, in this process). In memory by default;
 * give a directory path to persist across restarts (one process per directory).
 *
 * PGlite is one Postgres session. Every call goes through one FIFO mutex, so a query issued
 * from outside a transaction waits for the transaction to finish instead of running inside it
 * (and being rolled back with it); close() also waits for the calls queued before it. PGlite
 * 0.5 holds its own transaction lock too; ours does not depend on that internal. A consequence:
 * inside transaction(fn), fn must use the tx executor it is given; calling this database
 * directly from there could only deadlock, so it throws at once instead.
 *
 * Values are mapped as node-postgres maps them (see sql.pg.adapter.ts): int8 and numeric as
 * strings, bytea as Buffer, date as local midnight; jsonb, timestamptz, boolean as PGlite does.
 */
export class PgliteSqlDatabase implements SqlDatabase {
  readonly kind = 'pglite';
  /** Resolves once PGlite accepts queries; a failed start rejects every call with its error. */
  private readonly pg: Promise<PGlite>;
  private readonly mutex = new Mutex();
  /** Set while a transaction callback runs, in that callback's async context. */
  private readonly txScope = new AsyncLocalStorage<{ open: boolean }>();
  private closed = false;

  /** dataDir: a directory (created if missing) or a PGlite URL such as memory://name; none = in memory. */
  constructor(dataDir?: string) {
    if (dataDir && !/^[a-z]+:\/\//.test(dataDir)) mkdirSync(dataDir, { recursive: true });
    this.pg = dataDir ? open({ dataDir, parsers: PARSERS }) : openInMemory();
    // Without a handler here, a failed start would also be an unhandled rejection (fatal in Node).
    this.pg.catch(() => undefined);
  }

  /** Opens the database and waits until it accepts queries (start-up takes a few seconds). */
  static async create(dataDir?: string): Promise<PgliteSqlDatabase> {
    const db = new PgliteSqlDatabase(dataDir);
    await db.pg;
    return db;
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>> {
    return this.exclusive(async (pg) => toResult<T>(await pg.query<T>(sql, params)));
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(async (pg) => {
      await pg.exec(sql);
    });
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive((pg) =>
      // PGlite's own transaction() issues BEGIN, COMMIT or ROLLBACK on a throw, reports a
      // COMMIT that turned into a ROLLBACK as an error, and makes a leaked tx unusable.
      pg.transaction(async (tx) => {
        const scope = { open: true };
        try {
          return await this.txScope.run(scope, () => fn(new PgliteTxExecutor(tx)));
        } finally {
          // Work the callback started but did not await may outlive it; once the transaction
          // is over, that work may use the database again.
          scope.open = false;
        }
      }),
    );
  }

  ping(): Promise<void> {
    return this.exclusive(async (pg) => {
      await pg.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Queued work runs first; whatever arrives later is refused by exclusive().
    await this.mutex.run(async () => {
      const pg = await this.pg.catch(() => undefined);
      if (pg && !pg.closed) await pg.close();
    });
  }

  private exclusive<T>(fn: (pg: PGlite) => Promise<T>): Promise<T> {
    if (this.txScope.getStore()?.open) {
      return Promise.reject(new Error('PgliteSqlDatabase: called on the database inside its own transaction; use the tx executor (it would deadlock)'));
    }
    if (this.closed) return Promise.reject(new Error('PgliteSqlDatabase is closed'));
    return this.mutex.run(async () => fn(await this.pg));
  }
}

class PgliteTxExecutor implements SqlExecutor {
  constructor(private readonly tx: Transaction) {}

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>> {
    return toResult<T>(await this.tx.query<T>(sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }
}

/** FIFO mutex: run() callers execute one at a time in call order; a rejection frees the lock. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** node-postgres' date parser: a date is midnight in the local time zone. */
function parseDate(text: string): Date | number {
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  const m = /^(\d+)-(\d\d)-(\d\d)( BC)?$/.exec(text);
  if (!m) return new Date(text);
  let year = Number(m[1]);
  if (m[4]) year = 1 - year;
  const d = new Date(year, Number(m[2]) - 1, Number(m[3]));
  // new Date(y, ...) maps years 0..99 to 1900..1999.
  if (year >= 0 && year < 100) d.setFullYear(year);
  return d;
}

const PARSERS = {
  [types.INT8]: (x: string) => x,
  [types.NUMERIC]: (x: string) => x,
  [types.BYTEA]: (x: string) => Buffer.from(x.slice(2), 'hex'),
  [types.DATE]: parseDate,
};

async function open(options: PGliteOptions): Promise<PGlite> {
  const pg = new PGlite(options);
  await pg.waitReady;
  return pg;
}

/**
 * A fresh cluster's files, dumped once per process from the first in-memory database before
 * anyone writes to it: initdb is most of PGlite's start-up, and loading this copy instead makes
 * each further in-memory database start about 4x faster (tests and the embedded suite open many).
 */
let pristine: Promise<Blob> | undefined;

async function openInMemory(): Promise<PGlite> {
  const files = await pristine?.catch(() => undefined);
  if (files) return open({ loadDataDir: files, parsers: PARSERS });
  const pg = open({ parsers: PARSERS });
  const dump = pg.then((p) => p.dumpDataDir('none'));
  pristine = dump;
  try {
    await dump;
  } catch {
    // No copy to share; this database itself may still be fine (or pg rejects below).
    if (pristine === dump) pristine = undefined;
  }
  return pg;
}

function toResult<T>(r: Results<T>): SqlResult<T> {
  return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length };
}
