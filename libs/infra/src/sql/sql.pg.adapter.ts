import { Pool, type PoolClient, type QueryConfig, type QueryResult } from 'pg';
import type { SqlDatabase, SqlExecutor, SqlResult } from './sql.port';

/**
 * SqlDatabase over a node-postgres Pool.
 *
 * Value mapping is node-postgres' default, left untouched on purpose (the type parsers are
 * process-wide, and changing them would surprise any other pg user in the process):
 *   int2/int4/float → number;  int8 (bigserial ids, count(*)) and numeric → string, so no
 *   value silently loses precision;  json/jsonb → parsed value;  bytea → Buffer;
 *   timestamptz → Date;  boolean → boolean;  SQL NULL → null.
 * Parameters: a plain object is sent as JSON, a Buffer as bytea, a Date as a timestamp, but a JS
 * array is sent as a Postgres array literal, so bind a JSON array to jsonb as JSON.stringify(v).
 * The PGlite adapter maps values the same way (sql.contract.ts holds both to it).
 */
export interface PgSqlOptions {
  /** Upper bound on waiting for a connection (pool checkout or TCP connect). Default 5000 ms. */
  connectionTimeoutMillis?: number;
  /** Upper bound on the ping query once a connection is held. Default 2000 ms. */
  pingTimeoutMillis?: number;
  /** Idle connections are closed after this long. Default 30000 ms. */
  idleTimeoutMillis?: number;
  /** Errors of idle pooled connections (server restart, network drop). Default: a process warning. */
  onPoolError?: (err: Error) => void;
}

export class PgSqlDatabase implements SqlDatabase {
  readonly kind = 'pg';
  private readonly pool: Pool;
  private readonly pingTimeoutMillis: number;
  private ended = false;

  constructor(connectionString: string, poolSize = 10, options: PgSqlOptions = {}) {
    this.pool = new Pool({
      connectionString,
      max: poolSize,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
      idleTimeoutMillis: options.idleTimeoutMillis ?? 30000,
    });
    this.pingTimeoutMillis = options.pingTimeoutMillis ?? 2000;
    // Without a listener, an idle connection dropped by the server would crash the process.
    // The pool has already discarded that connection; the next checkout opens a fresh one.
    const onPoolError = options.onPoolError ?? ((err: Error) => process.emitWarning(`pg pool: ${err.message}`));
    this.pool.on('error', onPoolError);
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>> {
    return toResult<T>(await this.pool.query(sql, params as unknown[] | undefined));
  }

  async exec(sql: string): Promise<void> {
    // No values array: node-postgres then uses the simple query protocol, which accepts
    // several statements separated by ';'.
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no 'error' listener; a connection drop mid-transaction would
    // otherwise be an uncaught 'error' event. The pending query rejects on its own.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    let open = true;
    const tx = new PgTxExecutor(client, () => open);
    try {
      await client.query('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        open = false;
        await rollbackQuietly(client, (e) => (broken ??= e));
        throw err;
      }
      open = false;
      const commit = await client.query('COMMIT');
      // A failed statement the callback swallowed leaves the transaction aborted; COMMIT then
      // answers ROLLBACK instead of failing, and the caller must not believe its writes landed.
      if (commit.command === 'ROLLBACK') {
        throw new Error('transaction was aborted by an earlier failed statement and has been rolled back');
      }
      return result;
    } finally {
      open = false;
      client.off('error', onError);
      // release(err) destroys the connection instead of returning a possibly broken one to the pool.
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    // query_timeout is honoured by node-postgres' Client but missing from @types/pg's QueryConfig.
    await this.pool.query({ text: 'SELECT 1', query_timeout: this.pingTimeoutMillis } as QueryConfig);
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

class PgTxExecutor implements SqlExecutor {
  constructor(
    private readonly client: PoolClient,
    private readonly isOpen: () => boolean,
  ) {}

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>> {
    this.assertOpen();
    return toResult<T>(await this.client.query(sql, params as unknown[] | undefined));
  }

  async exec(sql: string): Promise<void> {
    this.assertOpen();
    await this.client.query(sql);
  }

  // After the transaction ends the client goes back to the pool and may serve someone else's
  // transaction; a late call through a leaked executor must fail, not run there.
  private assertOpen(): void {
    if (!this.isOpen()) throw new Error('transaction is closed');
  }
}

async function rollbackQuietly(client: PoolClient, onFailure: (err: Error) => void): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch (err) {
    // The connection is unusable; the original error is the one worth reporting.
    onFailure(err as Error);
  }
}

function toResult<T>(r: QueryResult): SqlResult<T> {
  return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
}
