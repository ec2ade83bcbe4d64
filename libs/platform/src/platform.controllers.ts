import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Readiness (same as /health/ready): 200 when every dependency answers and no consumer is stuck, 503 otherwise' })
  async health(@Res() res: Response) {
    const r = await this.readiness();
    res.status(r.ok ? 200 : 503).json(r.body);
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness: 200 when every dependency answers and no consumer partition is stuck past CONSUMER_STUCK_AFTER_MS, 503 otherwise' })
  async ready(@Res() res: Response) {
    const r = await this.readiness();
    res.status(r.ok ? 200 : 503).json(r.body);
  }

  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves requests (no dependency is checked)' })
  live() {
    return { status: 'ok', app: this.ctx.name, uptimeSeconds: Math.round(process.uptime()) };
  }
}

@ApiTags('platform')
@Controller()
export class MetricsController {
  constructor(@Inject(APP_CONTEXT) private readonly ctx: AppContext) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.ctx.metrics.metrics();
  }
}
