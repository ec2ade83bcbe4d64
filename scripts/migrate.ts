/**
 * Applies the pending schema migrations, or with --down reverts the newest one.
 *   node dist/scripts/migrate.js [--down]
 * Target: DATABASE_URL when set, else the embedded PGlite directory PGLITE_DIR (default .data/pglite).
 */
import { migrate, migrateDown, migrationsDir } from '@recsys/infra/sql/migrate';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { PgliteSqlDatabase } from '@recsys/infra/sql/sql.pglite.adapter';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import { parseArgs } from 'node:util';

async function main(argv: string[]): Promise<void> {
  let down: boolean;
  try {
    down = parseArgs({ args: argv, options: { down: { type: 'boolean', default: false } }, strict: true }).values.down;
  } catch (e) {
    throw new Error(`${(e as Error).message} (usage: migrate [--down])`, { cause: e });
  }
  const url = process.env.DATABASE_URL;
  const pgliteDir = process.env.PGLITE_DIR || '.data/pglite';
  const db: SqlDatabase = url ? new PgSqlDatabase(url, 2) : new PgliteSqlDatabase(pgliteDir);
  const dir = migrationsDir();
  console.log(`migrate: ${url ? 'postgres (DATABASE_URL)' : `pglite ${pgliteDir}`}, migrations in ${dir}`);
  const log = (line: string) => console.log(`migrate: ${line}`);
  try {
    const names = down ? await migrateDown(db, dir, log) : await migrate(db, dir, log);
    if (names.length === 0) console.log(`migrate: nothing to ${down ? 'revert' : 'apply'}`);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // umzug's MigrationError message already names the migration and quotes the database error.
  console.error('migrate: failed:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
