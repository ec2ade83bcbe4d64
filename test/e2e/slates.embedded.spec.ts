import { startTestSuite } from '../support/suite';
import { SLATES_TEST_ENV, slatesScenario, withEnv } from './slates.flow';

describe('slates service (embedded adapters)', () => {
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let restore: () => void;
  beforeAll(async () => {
    restore = withEnv(SLATES_TEST_ENV);
    suite = await startTestSuite({ APPS: 'slates' });
  });
  afterAll(async () => {
    await suite?.close();
    restore?.();
  });

  it('serves slates with propensities; joins impressions and clicks in either order; replay-safe; malformed impressions dead-lettered', async () => {
    await slatesScenario({ bus: suite.infra.bus, url: suite.url('slates'), user: 'ann' });
  });
});
