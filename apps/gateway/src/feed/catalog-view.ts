import { TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import { hostname } from 'node:os';

/**
 * What the gateway must know to never serve a forbidden item: each item's group (surface
 * filtering, also of fallback items) and whether it was deleted, from catalog.items (namespace
 * `items`); which campaigns are paused, from ads.events (campaign_pause / campaign_archive, until a campaign_upsert).
 * Every replica reads both topics from the beginning with its own consumer groups, so the view is
 * rebuilt from Kafka after a restart. Idempotent: last write per item / campaign wins.
 */
export class CatalogView {
  readonly groups = new Map<string, string | null>();
  readonly deleted = new Set<string>();
  readonly pausedCampaigns = new Set<string>();
  private byGroup?: Map<string | null, string[]>;

  upsert(itemId: string, group: string | undefined) {
    this.groups.set(itemId, group ?? null);
    this.deleted.delete(itemId);
    this.byGroup = undefined;
  }

  delete(itemId: string) {
    this.groups.delete(itemId);
    this.deleted.add(itemId);
    this.byGroup = undefined;
  }

  /** Whether the item may be shown on a surface restricted to `allowed` groups (null = every group). */
  allowed(itemId: string, allowed: ReadonlySet<string> | null): boolean {
    const g = this.groups.get(itemId);
    // Unknown (never upserted, or deleted): not shown. The view follows the same topic retrieval
    // indexes, so a new item is known here within the consumer's lag.
    if (g === undefined) return false;
    if (!allowed) return true;
    return g !== null && allowed.has(g);
  }

  /** Items of the allowed groups in catalog order (the cold fallback when nothing is popular yet). */
  anyItems(allowed: ReadonlySet<string> | null, n: number, skip: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const [id, g] of this.groups) {
      if (out.length >= n) break;
      if (skip.has(id)) continue;
      if (allowed && (g === null || !allowed.has(g))) continue;
      out.push(id);
    }
    return out;
  }
}

export async function startCatalogView(ctx: AppContext, view: CatalogView) {
  const replica = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  // Every gateway replica reads everything under its own group; bad records are dead-lettered once
  // per scope shared by all replicas and restarts (as ranking does), not once per replica group.
  const kit = consumerKit(ctx);
  const items = await startEventBatchConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.catalogItems,
    groupId: `gateway-catalog-${replica}`,
    fromBeginning: true,
    ...kit,
    dlqScope: 'gateway-catalog',
    handleBatch: async (events) => {
      for (const { event: e } of events) {
        if (e.namespace !== 'items') continue;
        if (e.op === 'delete') view.delete(e.itemId);
        else view.upsert(e.itemId, e.group);
      }
    },
  });
  const ads = await startEventBatchConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.adsEvents,
    groupId: `gateway-campaigns-${replica}`,
    fromBeginning: true,
    ...kit,
    dlqScope: 'gateway-campaigns',
    handleBatch: async (events) => {
      for (const { event: e } of events) {
        if (e.type === 'campaign_pause' || e.type === 'campaign_archive') view.pausedCampaigns.add(e.campaignId);
        else if (e.type === 'campaign_upsert') view.pausedCampaigns.delete(e.campaignId);
      }
    },
  });
  ctx.subscriptions.push(items, ads);
}
