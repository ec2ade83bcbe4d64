import { PgliteSqlDatabase } from '../../../../libs/infra/src/sql/sql.pglite.adapter';
import { modelRegistrySuite } from './model-registry.suite';

modelRegistrySuite('PGlite', () => PgliteSqlDatabase.create());
