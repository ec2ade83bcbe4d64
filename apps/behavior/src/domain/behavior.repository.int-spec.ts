import { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { behaviorRepositorySuite } from './behavior.repository.suite';
import { behaviorStorageSuite } from './behavior.storage.suite';

const { redisUrl } = realInfra();

// A fresh key prefix per test; the suites delete what each test leaves behind.
behaviorRepositorySuite('RedisStateStore', async () => new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('behavior')}:` }));
behaviorStorageSuite('RedisStateStore', async () => new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('behavior')}:` }));
