import { randomUUID } from 'node:crypto';
import { TOPICS } from '@recsys/contracts';
import { startEventBatchConsumer } from '@recsys/messaging';
import { consumerKit, DomainError, type AppContext } from '@recsys/platform';
import { loadAdloadConfig, type AdloadConfig } from './adload.config';
import { DecisionLog, DecisionWriter } from './domain/decision-log';
import { learn, type LearnResult } from './domain/learner';
import { adDelta, applyOutcomes, feedbackDelta, type OutcomeDelta } from './domain/outcomes';
import { actionProbabilities, adPositions, contextKey, drawAction, uniformParams, type DecisionContext } from './domain/policy';
import { PolicyStore, type PolicyRow } from './domain/policy-store';
import { revenue, satisfaction } from './domain/reward';

export interface DecideInput {
  userId: string;
  surface: string;
  sessionFetchIndex: number;
  requestId?: string;
  context?: { segment?: string; adTolerance?: number; hour?: number };
  /** Decide with this policy instead of the surface's live one (an experiment variant's override); it must belong to the surface. */
  policyId?: string;
}

export const LEARN_QUEUE = 'adload-learn';

/** Ad-load decisions, the decision log, outcome joins and the learning job. */
export class AdloadService {
  readonly config: AdloadConfig;
  readonly log: DecisionLog;
  readonly writer: DecisionWriter;
  readonly policies: PolicyStore;
  private readonly live = new Map<string, PolicyRow>();
  /** Policies asked for by id (overrides): a version's params never change once written, so a row is kept once read. */
  private readonly byId = new Map<string, PolicyRow>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: AppContext,
    config?: AdloadConfig,
  ) {
    this.config = config ?? loadAdloadConfig();
    this.log = new DecisionLog(ctx.infra.sql, this.config.ADLOAD_CONTINUATION_MINUTES * 60_000);
    this.writer = new DecisionWriter(this.log, this.config.ADLOAD_BATCH_SIZE, this.config.ADLOAD_FLUSH_MS, (e, n) => ctx.log.error({ err: e, n }, 'decision log write failed'));
    this.policies = new PolicyStore(ctx.infra.sql);
  }

  async start(): Promise<void> {
    await this.refreshLive();
    await this.log.ensurePartition(Math.floor(Date.now() / 86_400_000));
    await this.log.applyRetention(this.config.ADLOAD_RETENTION_DAYS);
    await this.startConsumers();
    await this.ctx.infra.jobs.process(LEARN_QUEUE, async (job) => this.learnSurface((job.data as { surface: string }).surface));
    if (this.config.ADLOAD_LEARN_INTERVAL_MS > 0) {
      // Repeatable through the JobQueue port: one job id per surface and period, so replicas enqueue it once.
      this.timer = setInterval(() => void this.enqueueLearning().catch((e) => this.ctx.log.warn({ err: e }, 'learning enqueue failed')), this.config.ADLOAD_LEARN_INTERVAL_MS);
      this.timer.unref();
    }
    this.ctx.shutdownHooks.push(async () => {
      if (this.timer) clearInterval(this.timer);
      await this.writer.flush();
    });
  }

  async enqueueLearning(): Promise<string[]> {
    const period = Math.floor(Date.now() / Math.max(1, this.config.ADLOAD_LEARN_INTERVAL_MS));
    return Promise.all(Object.keys(this.config.ADLOAD_SURFACES).map((s) => this.ctx.infra.jobs.add(LEARN_QUEUE, { surface: s }, { jobId: `learn-${s}-${period}` })));
  }

  async refreshLive(): Promise<void> {
    for (const [surface, sc] of Object.entries(this.config.ADLOAD_SURFACES)) {
      this.live.set(surface, await this.policies.live(surface, () => uniformParams(sc.actions.length, this.config.ADLOAD_EPSILON, 1)));
    }
  }

  /**
   * The decide route: with `policyId`, that policy (any status: a staged candidate under test, a
   * retired one for comparison) decides instead of the live one; 404 `policy_not_found` when no
   * policy has that id, 422 `policy_surface_mismatch` when it belongs to another surface.
   */
  async decideRequest(input: DecideInput, now = Date.now()) {
    if (!input.policyId) return this.decide(input, now);
    let policy = this.byId.get(input.policyId);
    if (!policy) {
      policy = await this.policies.get(input.policyId);
      if (!policy) throw new DomainError('policy_not_found', 404, `no ad-load policy '${input.policyId}'`, { policyId: input.policyId });
      if (this.byId.size >= 1000) this.byId.clear();
      this.byId.set(policy.policyId, policy);
    }
    return this.decide(input, now, policy);
  }

  decide(input: DecideInput, now = Date.now(), override?: PolicyRow) {
    const sc = this.config.ADLOAD_SURFACES[input.surface];
    if (!sc) throw new DomainError('unknown_surface', 422, `surface '${input.surface}' is not configured (ADLOAD_SURFACES)`, { surfaces: Object.keys(this.config.ADLOAD_SURFACES) });
    if (override && override.surface !== input.surface) {
      throw new DomainError('policy_surface_mismatch', 422, `policy '${override.policyId}' decides for surface '${override.surface}', not '${input.surface}'`, {
        policyId: override.policyId,
        surface: override.surface,
      });
    }
    const policy = override ?? this.live.get(input.surface);
    if (!policy) throw new DomainError('policy_unavailable', 503, 'no live policy loaded yet');
    const c: DecisionContext = {
      surface: input.surface,
      sessionFetchIndex: input.sessionFetchIndex,
      segment: input.context?.segment ?? 'unknown',
      adTolerance: input.context?.adTolerance,
      hour: input.context?.hour ?? new Date(now).getUTCHours(),
    };
    const key = contextKey(c);
    const probs = actionProbabilities(policy.params, key, sc.actions.length);
    const action = drawAction(probs, Math.random());
    const adSlots = sc.actions[action];
    const decisionId = randomUUID();
    const requestId = input.requestId ?? decisionId;
    this.writer.push({
      decisionId,
      ts: now,
      requestId,
      userId: input.userId,
      surface: input.surface,
      sessionFetchIndex: input.sessionFetchIndex,
      contextKey: key,
      context: { ...c },
      action,
      adSlots,
      propensity: probs[action],
      probs: Array.from(probs),
      policyId: policy.policyId,
      policyVersion: policy.version,
    });
    return { decisionId, requestId, policyId: policy.policyId, policyVersion: policy.version, adSlots, positions: adPositions(adSlots, sc.pageSize), propensity: probs[action] };
  }

  private async startConsumers() {
    const handle = async (deltas: (OutcomeDelta | undefined)[]) => {
      await applyOutcomes(
        this.ctx.infra.sql,
        deltas.filter((d): d is OutcomeDelta => !!d),
      );
      return { rejected: [] };
    };
    this.ctx.subscriptions.push(
      await startEventBatchConsumer({
        bus: this.ctx.infra.bus,
        topic: TOPICS.feedFeedback,
        groupId: 'adload-feedback',
        maxBatchSize: 2000,
        ...consumerKit(this.ctx),
        handleBatch: (events) => handle(events.map((e) => feedbackDelta(e.event))),
      }),
      await startEventBatchConsumer({
        bus: this.ctx.infra.bus,
        topic: TOPICS.adsEvents,
        groupId: 'adload-ads',
        maxBatchSize: 2000,
        ...consumerKit(this.ctx),
        handleBatch: (events) => handle(events.map((e) => adDelta(e.event))),
      }),
    );
  }

  /** The learning job of one surface: window -> learn -> report -> stage (-> promote when configured). */
  async learnSurface(surface: string, now = Date.now()) {
    const sc = this.config.ADLOAD_SURFACES[surface];
    if (!sc) throw new DomainError('unknown_surface', 422, `surface '${surface}' is not configured`);
    await this.writer.flush();
    await this.log.applyRetention(this.config.ADLOAD_RETENTION_DAYS, now);
    const to = now - this.config.ADLOAD_LEARN_DELAY_MS;
    const from = to - this.config.ADLOAD_LEARN_WINDOW_HOURS * 3_600_000;
    const joined = await this.log.window(surface, from, to);
    if (joined.length < this.config.ADLOAD_MIN_ROUNDS) {
      return { surface, rounds: joined.length, staged: null, reportId: null, reason: `too few decisions (${joined.length} < ${this.config.ADLOAD_MIN_ROUNDS})` };
    }
    const live = this.live.get(surface) ?? (await this.policies.live(surface, () => uniformParams(sc.actions.length, this.config.ADLOAD_EPSILON, 1)));
    const rounds = joined.map((j) => ({ contextKey: j.contextKey, action: j.action, propensity: j.propensity, satisfaction: satisfaction(j), revenue: revenue(j) }));
    const res = learn(rounds, live.params, {
      nActions: sc.actions.length,
      lambda: sc.lambda,
      epsilon: this.config.ADLOAD_EPSILON,
      temperature: this.config.ADLOAD_TEMPERATURE,
      tolerance: this.config.ADLOAD_GUARDRAIL_TOLERANCE,
      bootstrapResamples: this.config.ADLOAD_BOOTSTRAP_RESAMPLES,
    });
    const reportId = await this.policies.saveReport(surface, reportBody(surface, sc.lambda, live.policyId, from, to, res));
    let staged: PolicyRow | null = null;
    let promoted = false;
    if (res.winner) {
      staged = await this.policies.stage(surface, res.winner.params, reportId);
      if (this.config.ADLOAD_AUTO_PROMOTE && res.promotable) {
        staged = await this.policies.promote(staged.policyId);
        promoted = true;
        await this.refreshLive();
      }
    }
    return {
      surface,
      rounds: res.rounds,
      reportId,
      staged: staged && { policyId: staged.policyId, version: staged.version, status: staged.status },
      promotable: res.promotable,
      promoted,
      reason: res.reason,
    };
  }

  async promote(policyId: string) {
    const p = await this.policies.get(policyId);
    if (!p) throw new DomainError('policy_not_found', 404, `policy '${policyId}' does not exist`);
    if (p.status !== 'staged') throw new DomainError('policy_not_staged', 409, `policy '${policyId}' is ${p.status}, only a staged policy can be promoted`);
    const rep = p.reportId ? await this.policies.report(p.reportId) : undefined;
    const c = rep?.body?.candidates?.find((x) => x.staged);
    if (!rep || !c || !(c.decision.objective.lower > rep.body.live.decision.objective.value)) {
      throw new DomainError('promotion_rule_not_met', 409, "the staged policy's objective lower bound does not beat the live policy's estimate", {
        stagedLower: c?.decision.objective.lower,
        liveEstimate: rep?.body?.live?.decision.objective.value,
      });
    }
    const row = await this.policies.promote(policyId);
    await this.refreshLive();
    return row;
  }
}

/** A learning run's report as stored and served (GET /v1/adload/reports/{id}). */
export type ReportBody = ReturnType<typeof reportBody>;

export function reportBody(surface: string, lambda: number, livePolicyId: string, from: number, to: number, r: LearnResult) {
  const strip = (p: LearnResult['live'], staged = false) => ({ name: p.name, kind: p.kind, staged, guardrailOk: p.guardrailOk, decision: p.decision, estimators: p.estimators });
  return {
    surface,
    lambda,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    rounds: r.rounds,
    livePolicyId,
    decisionRule:
      'stage the candidate with the best DR lower 95% bound of the objective whose satisfaction lower bound is within the tolerance of the live one; promote when that bound beats the live estimate',
    live: strip(r.live),
    candidates: r.candidates.map((c) => strip(c, c === r.winner)),
    winner: r.winner?.name ?? null,
    promotable: r.promotable,
    reason: r.reason,
  };
}
