import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { modelRegistrySuite } from './model-registry.suite';

const { databaseUrl } = realInfra();
const admin = new PgSqlDatabase(databaseUrl, 1);
const schema = uniqueName('reg').replace(/-/g, '_');
afterAll(async () => {
  await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.close();
});

/** Its own schema (search_path), so the migrations and rows of this run touch nothing else. */
modelRegistrySuite('PostgreSQL', async () => {
  await admin.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return new PgSqlDatabase(url.toString(), 8);
});
