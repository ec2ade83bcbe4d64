import { EventPublisher } from '@recsys/messaging';
import { runProcessOrExit } from '@recsys/platform';
import { ALL_APPS } from './apps';
import { seedDemoSuite } from './demo-seed';
import { announceAppUrls } from './urls';

/**
 * `node dist/apps/suite/main.js [--only app1,app2]` (what `npm start` runs): the selected apps (all
 * by default) in this process. Without KAFKA_BROKERS / DATABASE_URL / REDIS_URL it uses the
 * embedded adapters and seeds a demo catalog (SEED_DEMO).
 */
runProcessOrExit(ALL_APPS, {
  afterStart: async (suite, config, log) => {
    // The bound URLs (ports may be 0): the gateway's HTTP fallback to a stage of this process uses them.
    announceAppUrls(suite);
    const seed = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && suite.infra.kinds.bus === 'inprocess');
    if (!seed) return;
    // Catalog and clicks through the bus; model, campaigns, ad-load policy, experiment through the apps' APIs.
    await seedDemoSuite(suite, new EventPublisher(suite.infra.bus), config, log);
  },
});
