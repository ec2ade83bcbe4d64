import { MemoryStateStore } from '../../../../libs/infra/src/state-store/state-store.memory.adapter';
import { behaviorRepositorySuite } from './behavior.repository.suite';

behaviorRepositorySuite('MemoryStateStore', async () => new MemoryStateStore());
