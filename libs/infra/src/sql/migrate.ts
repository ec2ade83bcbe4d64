import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Umzug, type UmzugStorage, type RunnableMigration } from 'umzug';
import type { SqlDatabase, SqlExecutor } from './sql.port';

/**
 * Schema migrations: plain SQL files run by umzug through the SqlDatabase port.
 *
 *   migrations/NNNN_name.up.sql     applied in NNNN order; the migration's name is NNNN_name
 *   migrations/NNNN_name.down.sql   optional; reverting a migration without one is an error
 *
 * Executed names live in the table schema_migrations of the current schema (search_path).
 *
 * A run (all pending migrations, or the reverts asked for) is one transaction, opened with
 * pg_advisory_xact_lock. So:
 *  - two replicas starting at once cannot both apply a migration: the second waits on the lock,
 *    then reads schema_migrations afresh and finds nothing pending;
 *  - a failing migration rolls back the whole run, leaving the schema at the version it had
 *    and schema_migrations in agreement with it.
 * The transaction-scoped lock (rather than pg_advisory_lock) is deliberate: a pool gives no
 * promise that lock and unlock use the same connection, while the transaction owns one, and
 * the lock also goes away if the process dies. PGlite implements the same function, and its
 * adapter serialises transactions anyway.
 * Migration files therefore must not contain BEGIN/COMMIT, nor statements that refuse to run
 * inside a transaction (CREATE INDEX CONCURRENTLY).
 */
export type MigrateLog = (line: string) => void;

export interface MigrationFile {
  name: string;
  upPath: string;
  downPath?: string;
}

const FILE = /^(\d{4,})_([a-z0-9_]+)\.(up|down)\.sql$/;
// Statement-level only: a plpgsql body's BEGIN ... END; is not transaction control.
const TX_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)\s*;/im;
// Arbitrary constant namespace for the lock; the second key is the schema, so migrations of
// different schemas (test runs, tenants) do not wait on each other.
const LOCK_NAMESPACE = 0x5ec5;

/** Applies every pending migration in dir. Returns the names applied, in order. */
export async function migrate(db: SqlDatabase, dir = migrationsDir(), log?: MigrateLog): Promise<string[]> {
  const files = loadMigrationFiles(dir);
  return runLocked(db, async (tx) => {
    const applied = await umzugFor(tx, files, log).up();
    return applied.map((m) => m.name);
  });
}

/** Reverts the newest `steps` applied migrations ('all' for every one). Returns the names reverted, newest first. */
export async function migrateDown(db: SqlDatabase, dir = migrationsDir(), log?: MigrateLog, steps: number | 'all' = 1): Promise<string[]> {
  const files = loadMigrationFiles(dir);
  return runLocked(db, async (tx) => {
    const umzug = umzugFor(tx, files, log);
    const reverted = steps === 'all' ? await umzug.down({ to: 0 }) : await umzug.down({ step: steps });
    return reverted.map((m) => m.name);
  });
}

/** Names recorded in schema_migrations, oldest first. */
export async function appliedMigrations(db: SqlDatabase): Promise<string[]> {
  return runLocked(db, (tx) => executedNames(tx));
}

/**
 * The repository's migrations/ folder, found by walking up from this file until a folder holds
 * both migrations/ and package.json. Works from the TS sources (libs/infra/src/sql) and from
 * the compiled output (dist/libs/infra/src/sql, or any other out dir) alike.
 */
export function migrationsDir(from = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate) && statSync(candidate).isDirectory()) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no migrations/ folder beside a package.json above ${from}`);
    dir = parent;
  }
}

/** Reads and checks the migration files of dir, in apply order. */
export function loadMigrationFiles(dir: string): MigrationFile[] {
  const byName = new Map<string, MigrationFile>();
  const downs = new Map<string, string>();
  const numbers = new Map<string, string>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue; // READMEs and the like
    const m = FILE.exec(file);
    if (!m) throw new Error(`migration file ${file}: name must be NNNN_lower_snake.up.sql or .down.sql`);
    const name = `${m[1]}_${m[2]}`;
    const path = join(dir, file);
    if (TX_CONTROL.test(readFileSync(path, 'utf8'))) {
      throw new Error(`migration file ${file}: must not contain transaction control (each run is one transaction)`);
    }
    if (m[3] === 'down') {
      downs.set(name, path);
      continue;
    }
    const clash = numbers.get(m[1]);
    if (clash) throw new Error(`migrations ${clash} and ${name} share the number ${m[1]}`);
    numbers.set(m[1], name);
    byName.set(name, { name, upPath: path });
  }
  for (const [name, path] of downs) {
    const up = byName.get(name);
    if (!up) throw new Error(`migration ${path} has no matching .up.sql`);
    up.downPath = path;
  }
  // Equal-width numbers sort as text; compare numerically so 10000 follows 9999.
  return [...byName.values()].sort((a, b) => Number(a.name.split('_')[0]) - Number(b.name.split('_')[0]));
}

async function runLocked<T>(db: SqlDatabase, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // READ COMMITTED whatever the server default: each statement after the lock must see what
    // a run that held the lock before us committed.
    await tx.exec('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext(current_schema()))', [LOCK_NAMESPACE]);
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    return fn(tx);
  });
}

async function executedNames(tx: SqlExecutor): Promise<string[]> {
  const r = await tx.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return r.rows.map((row) => row.name);
}

function umzugFor(tx: SqlExecutor, files: MigrationFile[], log?: MigrateLog): Umzug<{ tx: SqlExecutor }> {
  const storage: UmzugStorage<{ tx: SqlExecutor }> = {
    async logMigration({ name }) {
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
    },
    async unlogMigration({ name }) {
      await tx.query('DELETE FROM schema_migrations WHERE name = $1', [name]);
    },
    executed: () => executedNames(tx),
  };
  const migrations: RunnableMigration<{ tx: SqlExecutor }>[] = files.map((f) => ({
    name: f.name,
    path: f.upPath,
    up: async () => {
      await tx.exec(readFileSync(f.upPath, 'utf8'));
    },
    down: async () => {
      // umzug would silently un-record a migration without a down function.
      if (!f.downPath) throw new Error(`migration ${f.name} has no .down.sql and cannot be reverted`);
      await tx.exec(readFileSync(f.downPath, 'utf8'));
    },
  }));
  const umzug = new Umzug({ migrations, storage, context: { tx }, logger: undefined });
  if (log) {
    umzug.on('migrated', ({ name }) => log(`applied ${name}`));
    umzug.on('reverted', ({ name }) => log(`reverted ${name}`));
  }
  return umzug;
}
