import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, validateEvent, type FeedImpressionEvent } from '@recsys/contracts';
import { EventPublisher } from '@recsys/messaging';
import { createLogger, loadConfig, startSuite, type AppDefinition, type RunningSuite } from '@recsys/platform';
import { gatewayApp, gatewayModule } from '../../apps/gateway/src/gateway.app';
import { CatalogView } from '../../apps/gateway/src/feed/catalog-view';
import { FakeStages, type FakeItem } from './gateway.fakes';
import { eventually } from '../support/suite';

/** The gateway alone on the embedded adapters, every stage pointed at one FakeStages server. */
export async function startGatewayWithFakes(env: Record<string, string> = {}, suiteEnv: Record<string, string> = {}) {
  const fakes = new FakeStages();
  const origin = await fakes.start();
  const gwEnv: Record<string, string> = {
    GATEWAY_EXPERIMENTS_URL: origin,
    GATEWAY_BEHAVIOR_URL: origin,
    GATEWAY_RETRIEVAL_URL: origin,
    GATEWAY_RANKING_URL: origin,
    GATEWAY_SLATES_URL: origin,
    GATEWAY_ADLOAD_URL: origin,
    GATEWAY_ADS_URL: origin,
    GATEWAY_SURFACES: 'home=*;kids=g0|g1',
    ...env,
  };
  const def: AppDefinition = { ...gatewayApp, module: (ctx) => gatewayModule(ctx, { env: gwEnv }) };
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-gw-')), LOG_LEVEL: 'error', SEED_DEMO: 'false', APPS: 'gateway', GATEWAY_PORT: '0', ...suiteEnv });
  const suite: RunningSuite = await startSuite(config, [def], createLogger(config.LOG_LEVEL, { test: true }));
  const url = suite.apps[0]!.url;
  const catalog = suite.apps[0]!.nest.get(CatalogView);
  const publisher = new EventPublisher(suite.infra.bus);

  /** Publishes catalog items (namespace items) and waits until the gateway's view has them. */
  async function seedCatalog(items: FakeItem[], deleted: string[] = []) {
    const now = Date.now();
    await publisher.publish(
      TOPICS.catalogItems,
      items.map((it) => ({
        eventId: `c-${it.itemId}-${now}`,
        key: it.itemId,
        timestamp: now,
        schemaVersion: 1 as const,
        op: 'upsert' as const,
        namespace: 'items',
        itemId: it.itemId,
        group: it.group,
        embedding: [1, 0],
      })),
    );
    if (deleted.length) {
      await publisher.publish(
        TOPICS.catalogItems,
        deleted.map((id) => ({ eventId: `d-${id}-${now}`, key: id, timestamp: now + 1, schemaVersion: 1 as const, op: 'delete' as const, namespace: 'items', itemId: id })),
      );
    }
    await eventually(async () => items.every((it) => catalog.groups.has(it.itemId) || deleted.includes(it.itemId)) && deleted.every((d) => catalog.deleted.has(d)));
  }

  /** A campaign_pause on ads.events, and wait until the gateway's view has it. */
  async function pauseCampaign(campaignId: string) {
    const now = Date.now();
    await publisher.publish(TOPICS.adsEvents, [
      { eventId: `pause-${campaignId}-${now}`, key: `ad-of-${campaignId}`, timestamp: now, schemaVersion: 1, adId: `ad-of-${campaignId}`, campaignId, type: 'campaign_pause' },
    ]);
    await eventually(async () => catalog.pausedCampaigns.has(campaignId));
  }

  /** Every feed.impressions record published so far, validated against the contract. */
  const impressions: FeedImpressionEvent[] = [];
  const sub = await suite.infra.bus.subscribe({
    groupId: `test-impressions-${Date.now()}`,
    topics: [TOPICS.feedImpressions],
    fromBeginning: true,
    handler: async (r) => {
      impressions.push(validateEvent(TOPICS.feedImpressions, JSON.parse(r.value!.toString('utf8'))));
    },
  });

  return {
    fakes,
    suite,
    url,
    catalog,
    publisher,
    seedCatalog,
    pauseCampaign,
    impressions,
    async close() {
      await sub.stop();
      await suite.close();
      await fakes.stop();
    },
  };
}
