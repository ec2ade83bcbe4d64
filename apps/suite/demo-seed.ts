import { Rng } from '@recsys/ann/synthetic';
import { TOPICS } from '@recsys/contracts';
import type { EventPublisher } from '@recsys/messaging';

export interface DemoSeedOptions {
  dim: number;
  items?: number;
  ads?: number;
  users?: number;
  seed?: number;
}

/**
 * A demo catalog for the one-command start: clustered item and ad embeddings (a cluster is a
 * "genre" group) and a short click history for a few users, published through the same topics a
 * real producer uses, so every service builds its state exactly as in production.
 * Event ids are deterministic: seeding twice changes nothing.
 */
export async function seedDemo(publisher: EventPublisher, opts: DemoSeedOptions) {
  const { dim, items = 2000, ads = 200, users = 20, seed = 7 } = opts;
  const rng = new Rng(seed);
  const clusters = 8;
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => rng.normal() * 2));
  const vec = (c: number) => centers[c].map((x) => Math.round((x + rng.normal() * 0.7) * 1e4) / 1e4);
  const now = Date.now();
  const catalog = [
    ...Array.from({ length: items }, (_, i) => ({ ns: 'items', id: `item-${i}`, c: i % clusters })),
    ...Array.from({ length: ads }, (_, i) => ({ ns: 'ads', id: `ad-${i}`, c: i % clusters })),
  ].map((x) => ({
    eventId: `demo-catalog-${x.ns}-${x.id}`,
    key: x.id,
    timestamp: now,
    schemaVersion: 1 as const,
    op: 'upsert' as const,
    namespace: x.ns,
    itemId: x.id,
    group: `genre-${x.c}`,
    embedding: vec(x.c),
    attributes: { genre: `genre-${x.c}` },
  }));
  for (let i = 0; i < catalog.length; i += 500) await publisher.publish(TOPICS.catalogItems, catalog.slice(i, i + 500));

  const behaviors = [];
  for (let u = 0; u < users; u++) {
    const liked = [u % clusters, (u + 3) % clusters];
    for (let j = 0; j < 50; j++) {
      const c = liked[j % 2];
      const item = c + clusters * Math.floor(rng.next() * (items / clusters));
      behaviors.push({
        eventId: `demo-behavior-${u}-${j}`,
        key: `demo-user-${u}`,
        timestamp: now - (50 - j) * 60_000,
        schemaVersion: 1 as const,
        userId: `demo-user-${u}`,
        itemId: `item-${item}`,
        type: 'click' as const,
      });
    }
  }
  await publisher.publish(TOPICS.userBehaviors, behaviors);
  return { items, ads, users, behaviors: behaviors.length };
}
