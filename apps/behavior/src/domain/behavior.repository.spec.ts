import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { behaviorRepositorySuite } from './behavior.repository.suite';
import { behaviorStorageSuite } from './behavior.storage.suite';

behaviorRepositorySuite('MemoryStateStore', async () => new MemoryStateStore());
behaviorStorageSuite('MemoryStateStore', async () => new MemoryStateStore());
