import { RedisStateStore } from '../../../../libs/infra/src/state-store/state-store.redis.adapter';
import { realInfra, uniqueName } from '../../../../test/support/infra';
import { behaviorRepositorySuite } from './behavior.repository.suite';

const { redisUrl } = realInfra();

// A fresh key prefix per test; the suite deletes what each test leaves behind.
behaviorRepositorySuite('RedisStateStore', async () => new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('behavior')}:` }));
