import { betaParams, type Effect } from '@recsys/bandits';
import { DomainError, type AppContext } from '@recsys/platform';
import type { SlateRequest } from './api/dto';
import { FeedbackLearner, type PositionBias } from './domain/feedback-learner';
import { slatesKeys } from './domain/keys';
import { PosteriorStore } from './domain/posterior-store';
import { SlateBuilder } from './domain/slate-builder';
import { startSlatesConsumers } from './slates.consumers';
import { loadSlatesConfig, type SlatesConfig } from './slates.config';

const view = (e: Effect) => ({ mean: e.m, sd: 1 / Math.sqrt(e.q), clicks: e.clicks, exposures: e.exposures });

/** Slate use cases: the builder behind POST /v1/slates, the feedback learner and its consumers, the read API. */
export class SlatesService {
  readonly config: SlatesConfig;
  readonly posteriors: PosteriorStore;
  readonly builder: SlateBuilder;
  readonly learner: FeedbackLearner;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly ctx: AppContext) {
    this.config = loadSlatesConfig();
    this.posteriors = new PosteriorStore(ctx.infra.state);
    this.builder = new SlateBuilder(this.posteriors, this.config.SLATES_MAX_CANDIDATES);
    this.learner = new FeedbackLearner(ctx.infra.state, this.posteriors, {
      windowMs: this.config.SLATES_FEEDBACK_WINDOW_MS,
      retentionMs: this.config.SLATES_RETENTION_MS,
      examination: this.config.SLATES_EXAMINATION,
      positions: this.config.SLATES_POSITIONS,
    });
  }

  async start() {
    await this.learner.restore();
    await startSlatesConsumers(this.ctx, this.learner);
    const log = this.ctx.log;
    const sweep = setInterval(() => void this.learner.closeDue().catch((e) => log.error({ err: e }, 'slates: closing feedback windows failed')), this.config.SLATES_SWEEP_INTERVAL_MS);
    const pbm = setInterval(() => void this.learner.estimatePositionBias().catch((e) => log.error({ err: e }, 'slates: position-bias estimation failed')), this.config.SLATES_PBM_INTERVAL_MS);
    sweep.unref();
    pbm.unref();
    this.timers.push(sweep, pbm);
    this.ctx.shutdownHooks.push(async () => this.stop());
  }

  async stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  build(req: SlateRequest) {
    return this.builder.build(req);
  }

  async posterior(itemId: string) {
    const rec = (await this.posteriors.read([itemId], [])).items.get(itemId);
    if (!rec) throw new DomainError('posterior_not_found', 404, `no feedback has reached item '${itemId}' yet (a cold item starts from its group's posterior)`, { itemId });
    const snap = await this.posteriors.read([], [rec.group]);
    const group = snap.groups.get(rec.group)!;
    return {
      itemId,
      group: rec.group,
      observed: rec.exposures > 0,
      item: view(rec),
      groupEffect: view(group),
      slope: view(snap.slope),
      beta: betaParams(group, rec),
      updatedAt: rec.updatedAt ?? null,
    };
  }

  async positionBias(): Promise<PositionBias> {
    const b = await this.ctx.infra.state.get(slatesKeys.positionBias());
    if (b) return JSON.parse(b.toString('utf8')) as PositionBias;
    const positions = this.config.SLATES_POSITIONS;
    return {
      model: this.config.SLATES_EXAMINATION,
      examination: this.learner.currentExamination(),
      source: 'default',
      impressions: new Array(positions).fill(0),
      clicks: new Array(positions).fill(0),
      iterations: 0,
      updatedAt: null,
    };
  }
}
