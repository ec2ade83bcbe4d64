import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiRoute } from './api-route';
import type { Response } from 'express';
import { APP_CONTEXT, AppContext, Dependency } from './app-context';
import { consumerTracker } from './metrics';

const PING_TIMEOUT_MS = 1500;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      () => (clearTimeout(t), resolve()),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

export const DEPENDENCIES = Symbol('DEPENDENCIES');

const dependencyStatus = z.looseObject({ status: z.enum(['up', 'down']), error: z.string().optional() });
/** The readiness body, the same for 200 (ready) and 503 (not ready). */
export const readinessBody = z.looseObject({
  status: z.enum(['ok', 'error']),
  app: z.string(),
  uptimeSeconds: z.number().int().nonnegative(),
  dependencies: z.record(z.string(), dependencyStatus),
  consumers: z.looseObject({
    status: z.enum(['up', 'down']),
    stuckAfterMs: z.number(),
    partitions: z.number().int().nonnegative(),
    lag: z.number(),
    failing: z.number().int().nonnegative(),
    stuck: z.array(z.looseObject({ group: z.string(), topic: z.string(), partition: z.number().int() })),
  }),
});
export const livenessBody = z.looseObject({ status: z.literal('ok'), app: z.string(), uptimeSeconds: z.number().int().nonnegative() });
const readinessResponses = {
  200: { schema: readinessBody, description: 'ready: every dependency answers and no consumer partition is stuck' },
  503: { schema: readinessBody, description: 'not ready: a dependency is down or a consumer partition is stuck past CONSUMER_STUCK_AFTER_MS' },
};

@ApiTags('platform')
@Controller()
export class HealthController {
  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(DEPENDENCIES) private readonly deps: Dependency[],
  ) {}

  /**
   * Readiness: every dependency answers within PING_TIMEOUT_MS, every app check passes, and no
   * consumer partition has been stuck (failing, or behind without progress) for longer than
   * CONSUMER_STUCK_AFTER_MS.
   */
  private async readiness() {
    const checks: [string, () => Promise<void>][] = [
      ...this.deps.map((d) => [`${d}:${this.ctx.infra.kinds[d]}`, () => this.ctx.infra[d].ping()] as [string, () => Promise<void>]),
      ...this.ctx.healthChecks.entries(),
    ];
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await withTimeout(check(), PING_TIMEOUT_MS);
          return [name, { status: 'up' }] as const;
        } catch (e) {
          return [name, { status: 'down', error: (e as Error).message }] as const;
        }
      }),
    );
    const tracker = consumerTracker(this.ctx.metrics);
    await withTimeout(tracker.refresh(), PING_TIMEOUT_MS).catch(() => undefined);
    const stuckAfterMs = this.ctx.config.CONSUMER_STUCK_AFTER_MS;
    const statuses = tracker.statuses();
    const stuck = tracker.stuck(stuckAfterMs);
    const consumers = {
      status: stuck.length === 0 ? 'up' : 'down',
      stuckAfterMs,
      partitions: statuses.length,
      lag: statuses.reduce((a, s) => a + s.lag, 0),
      failing: statuses.filter((s) => s.failures > 0).length,
      stuck: stuck.map((s) => ({ group: s.group, topic: s.topic, partition: s.partition, lag: s.lag, failures: s.failures, sinceProgressMs: s.sinceProgressMs, lastError: s.lastError })),
    };
    const ok = results.every(([, r]) => r.status === 'up') && stuck.length === 0;
    return { ok, body: { status: ok ? 'ok' : 'error', app: this.ctx.name, uptimeSeconds: Math.round(process.uptime()), dependencies: Object.fromEntries(results), consumers } };
  }

  @Get('health')
  @ApiRoute({ summary: 'Readiness (same as /health/ready): 200 when every dependency answers and no consumer is stuck, 503 otherwise', responses: readinessResponses })
  async health(@Res() res: Response) {
    const r = await this.readiness();
    res.status(r.ok ? 200 : 503).json(r.body);
  }

  @Get('health/ready')
  @ApiRoute({ summary: 'Readiness: 200 when every dependency answers and no consumer partition is stuck past CONSUMER_STUCK_AFTER_MS, 503 otherwise', responses: readinessResponses })
  async ready(@Res() res: Response) {
    const r = await this.readiness();
    res.status(r.ok ? 200 : 503).json(r.body);
  }

  @Get('health/live')
  @ApiRoute({ summary: 'Liveness: 200 while the process serves requests (no dependency is checked)', responses: { 200: livenessBody } })
  live() {
    return { status: 'ok', app: this.ctx.name, uptimeSeconds: Math.round(process.uptime()) };
  }
}

@ApiTags('platform')
@Controller()
export class MetricsController {
  constructor(@Inject(APP_CONTEXT) private readonly ctx: AppContext) {}

  @Get('metrics')
  @ApiRoute({ summary: 'Prometheus metrics', responses: { 200: { schema: z.string(), description: 'Prometheus text exposition format', contentType: 'text/plain' } } })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.ctx.metrics.metrics();
  }
}
