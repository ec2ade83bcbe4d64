import { TOPICS } from '@recsys/contracts';
import { PermanentEventError, startEventConsumer } from '@recsys/messaging';
import { consumerKit, type AppContext } from '@recsys/platform';
import type { AdsService } from './ads.service';

/**
 * ads.events: delivery events with a tracking token bill and count (idempotent by eventId inside
 * the settle script, so no separate ledger round trip); campaign changes refresh this replica's
 * campaign cache. feed.feedback: a click on an ad of a fill bills it through the fill's token.
 * Both read from the beginning: replaying changes nothing (seen event ids, last-write-wins cache).
 */
export async function startAdsConsumers(ctx: AppContext, ads: AdsService) {
  // Metric hooks and the dead-letter ledger: one DLQ record per bad message across restarts.
  const kit = consumerKit(ctx);
  const events = await startEventConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.adsEvents,
    groupId: 'ads',
    ...kit,
    handle: async (e) => {
      if (e.type === 'campaign_upsert' || e.type === 'campaign_pause' || e.type === 'campaign_archive') {
        await ads.reloadCampaign(e.campaignId);
        return;
      }
      if (e.type !== 'impression' && e.type !== 'click' && e.type !== 'conversion') return;
      if (!e.token) return; // delivery reported by someone else (no fill of ours): nothing to bill
      const t = ads.tokens.decode(e.token);
      if (!t) throw new PermanentEventError('invalid_token', 'the tracking token is not one the ads service issued (bad signature or form)');
      if (t.c !== e.campaignId || t.a !== e.adId) throw new PermanentEventError('token_mismatch', `token names ad ${t.a} of campaign ${t.c}`);
      await ads.applyDelivery(t, e.type, e.eventId, e.timestamp);
    },
  });
  const feedback = await startEventConsumer({
    bus: ctx.infra.bus,
    topic: TOPICS.feedFeedback,
    groupId: 'ads-feedback',
    ...kit,
    handle: async (e) => {
      if (e.type !== 'click' || !e.requestId) return;
      const token = await ads.tokenOfFill(e.requestId, e.itemId);
      if (!token) return; // not an ad of ours (or past the attribution window)
      const t = ads.tokens.decode(token);
      if (!t) throw new PermanentEventError('invalid_token', 'the stored token of this fill does not verify (the token key changed)');
      await ads.applyDelivery(t, 'click', `feedback:${e.eventId}`, e.timestamp);
    },
  });
  ctx.subscriptions.push(events, feedback);
}
