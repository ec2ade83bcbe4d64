import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FeedStage } from '@recsys/contracts';
import type { BreakerState } from '../stages/breaker';

/** Seconds: 0.25 ms to 2.5 s (a stage's deadline is tens of ms; a fetch's budget 150 ms). */
const BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];

/**
 * Per-stage time (what bench:feed reads for its breakdown), fallbacks by reason, breaker states.
 * Histograms, not summaries: eight observations a fetch into a t-digest per label set cost more
 * CPU than the rest of the metrics (the feed profile); quantiles come from the buckets.
 */
export class FeedMetrics {
  private readonly stageTime: Histogram<'stage' | 'outcome'>;
  private readonly fallbacks: Counter<'stage' | 'reason'>;
  private readonly feedTime: Histogram<'degraded'>;
  private readonly breaker: Gauge<'stage'>;
  private readonly publishFailures: Counter;

  constructor(registry: Registry) {
    this.stageTime = new Histogram({
      name: 'gateway_stage_duration_seconds',
      help: 'time spent waiting on each feed stage, by outcome (ok or fallback)',
      labelNames: ['stage', 'outcome'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.fallbacks = new Counter({ name: 'gateway_stage_fallbacks_total', help: 'feed stages that took their fallback', labelNames: ['stage', 'reason'], registers: [registry] });
    this.feedTime = new Histogram({
      name: 'gateway_feed_duration_seconds',
      help: 'whole feed fetch inside the gateway, by whether any stage degraded',
      labelNames: ['degraded'],
      buckets: BUCKETS,
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
