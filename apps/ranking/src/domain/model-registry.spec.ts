import { PgliteSqlDatabase } from '@recsys/infra/sql/sql.pglite.adapter';
import { modelRegistrySuite } from './model-registry.suite';

modelRegistrySuite('PGlite', () => PgliteSqlDatabase.create());
