import type { Logger } from 'pino';
import type { AssembledFeatures, ItemLookup } from '@recsys/ranking';
import { featureKey } from '@recsys/ranking';
import type { RankingMetrics } from '../ranking.metrics';
import type { LoadedModel } from './loaded-model';

export interface ShadowJob {
  /** Acquired by the caller; the scorer releases it. */
  shadow: LoadedModel;
  live: LoadedModel;
  userId: string;
  domain: string;
  itemIds: readonly string[];
  livePctr: Float32Array;
  /** The live model's features: reused when the shadow spec defines the same features. */
  liveFeatures: AssembledFeatures;
  tables: Uint8Array | null;
}

/** Candidates whose scores go into the log line, by live rank. */
const LOGGED_ITEMS = 20;

/**
 * Scores a request with the shadow model after the live response has been computed (on a later
 * turn of the event loop, so the response goes out first) and logs both: one structured line
 * per request and |live - shadow| per candidate into a histogram. At most `maxPending` scorings
 * wait at once; beyond that a request is not shadowed (counted), so shadowing never builds a
 * backlog that would slow the live path.
 */
export class ShadowScorer {
  private pending = 0;

  constructor(
    private readonly maxPending: number,
    private readonly items: ItemLookup,
    private readonly metrics: RankingMetrics,
    private readonly log: Logger,
  ) {}

  get inFlight(): number {
    return this.pending;
  }

  /** Takes ownership of job.shadow's reference in every case. */
  schedule(job: ShadowJob): void {
    if (this.pending >= this.maxPending) {
      this.metrics.shadowSkipped.inc();
      job.shadow.release();
      return;
    }
    this.pending++;
    setImmediate(() => {
      this.score(job)
        .catch((e) => {
          this.metrics.shadowFailures.inc();
          this.log.warn({ err: (e as Error).message, shadowVersion: job.shadow.version }, 'shadow scoring failed');
        })
        .finally(() => {
          this.pending--;
          job.shadow.release();
        });
    });
  }

  private async score(job: ShadowJob): Promise<void> {
    const { shadow, live } = job;
    const features =
      featureKey(shadow.spec) === featureKey(live.spec)
        ? job.liveFeatures
        : shadow.assembler.assemble({ userId: job.userId, domain: job.domain, itemIds: job.itemIds, tables: job.tables }, this.items);
    const started = performance.now();
    const out = await shadow.session.run(features.feeds, ['pctr']);
    this.metrics.modelSeconds.observe({ slot: 'shadow' }, (performance.now() - started) / 1000);
    const sp = out.pctr.data as Float32Array;
    const lp = job.livePctr;
    let sum = 0;
    let max = 0;
    for (let i = 0; i < lp.length; i++) {
      const d = Math.abs(lp[i] - sp[i]);
      sum += d;
      if (d > max) max = d;
      this.metrics.shadowAbsDiff.observe(d);
    }
    this.metrics.shadowScored.inc();
    const order = Array.from(lp.keys()).sort((a, b) => lp[b] - lp[a] || a - b);
    this.log.info(
      {
        shadow: {
          model: live.name,
          userId: job.userId,
          domain: job.domain,
          candidates: lp.length,
          liveVersion: live.version,
          shadowVersion: shadow.version,
          meanAbsDiff: lp.length ? sum / lp.length : 0,
          maxAbsDiff: max,
          top: order.slice(0, LOGGED_ITEMS).map((i) => ({ itemId: job.itemIds[i], live: lp[i], shadow: sp[i] })),
        },
      },
      'shadow scored',
    );
  }
}
