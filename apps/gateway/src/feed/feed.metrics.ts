import { Counter, Gauge, Summary, type Registry } from 'prom-client';
import type { FeedStage } from '@recsys/contracts';
import type { BreakerState } from '../stages/breaker';

const PERCENTILES = [0.5, 0.9, 0.99];

/** Per-stage time (what bench:feed reads for its breakdown), fallbacks by reason, breaker states. */
export class FeedMetrics {
  private readonly stageTime: Summary<'stage' | 'outcome'>;
  private readonly fallbacks: Counter<'stage' | 'reason'>;
  private readonly feedTime: Summary<'degraded'>;
  private readonly breaker: Gauge<'stage'>;
  private readonly publishFailures: Counter;

  constructor(registry: Registry) {
    this.stageTime = new Summary({
      name: 'gateway_stage_duration_seconds',
      help: 'time spent waiting on each feed stage, by outcome (ok or fallback)',
      labelNames: ['stage', 'outcome'],
      percentiles: PERCENTILES,
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers: [registry],
    });
    this.fallbacks = new Counter({ name: 'gateway_stage_fallbacks_total', help: 'feed stages that took their fallback', labelNames: ['stage', 'reason'], registers: [registry] });
    this.feedTime = new Summary({
      name: 'gateway_feed_duration_seconds',
      help: 'whole feed fetch inside the gateway, by whether any stage degraded',
      labelNames: ['degraded'],
      percentiles: PERCENTILES,
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers: [registry],
    });
    this.breaker = new Gauge({ name: 'gateway_breaker_open', help: 'circuit breaker per stage: 0 closed, 0.5 half-open, 1 open', labelNames: ['stage'], registers: [registry] });
    this.publishFailures = new Counter({ name: 'gateway_impressions_publish_failures_total', help: 'feed.impressions records that could not be published', registers: [registry] });
  }

  stage(stage: FeedStage, outcome: 'ok' | 'fallback', ms: number, reason?: string) {
    this.stageTime.observe({ stage, outcome }, ms / 1000);
    if (outcome === 'fallback') this.fallbacks.inc({ stage, reason: reason ?? 'unknown' });
  }

  feed(ms: number, degraded: FeedStage[]) {
    this.feedTime.observe({ degraded: degraded.length > 0 ? 'yes' : 'no' }, ms / 1000);
  }

  breakerChanged(stage: string, state: BreakerState) {
    this.breaker.set({ stage }, state === 'open' ? 1 : state === 'half_open' ? 0.5 : 0);
  }

  publishFailed() {
    this.publishFailures.inc();
  }
}
