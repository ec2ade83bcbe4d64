import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_APPS } from '../../apps/suite/apps';
import { TOPICS } from '@recsys/contracts';
import { EventPublisher } from '@recsys/messaging';
import { createInfra, createLogger, type InfraContext, loadConfig, startSuite } from '@recsys/platform';
import { eventually, getJson } from '@recsys/testing/suite';

/**
 * Retrieval's state is its snapshots on disk plus the offsets recorded with them. When the
 * snapshots are lost, the group's committed offsets must not be trusted alone (they are past
 * everything the lost indexes held): the service replays catalog.items from the earliest offset.
 */
describe('retrieval rebuilds from the log when its snapshots are lost (embedded)', () => {
  const DIM = 4;
  const dataDir = mkdtempSync(join(tmpdir(), 'retrieval-loss-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    APPS: 'retrieval',
    RETRIEVAL_PORT: '0',
    RETRIEVAL_INDEX_KIND: 'exact',
    NAMESPACE_DIMS: `items:${DIM}`,
  });
  const log = createLogger('warn');
  let infra: InfraContext;
  afterAll(async () => {
    await infra?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a restart without the snapshot directory ends with every item indexed again', async () => {
    infra = await createInfra(config, log);
    const publisher = new EventPublisher(infra.bus);
    const upsert = (i: number) => ({
      eventId: `u${i}`,
      key: `item-${i}`,
      timestamp: 1,
      schemaVersion: 1 as const,
      op: 'upsert' as const,
      namespace: 'items',
      itemId: `item-${i}`,
      embedding: [Math.sin(i), Math.cos(i), 1, i / 100],
    });
    await publisher.publish(
      TOPICS.catalogItems,
      Array.from({ length: 120 }, (_, i) => upsert(i)),
    );
    let suite = await startSuite(config, ALL_APPS, log, infra);
    const size = async () => (await getJson(`${suite.apps[0].url}/v1/indexes`)).body.indexes?.[0]?.size ?? 0;
    await eventually(async () => (await size()) === 120);
    await suite.close(); // commits the group's offsets and writes a snapshot
    rmSync(join(dataDir, 'retrieval'), { recursive: true, force: true });
    await publisher.publish(TOPICS.catalogItems, [upsert(500)]);
    suite = await startSuite(config, ALL_APPS, log, infra);
    await eventually(async () => (await size()) === 121, 20_000);
    assert.equal(await size(), 121);
    await suite.close();
  });
});
