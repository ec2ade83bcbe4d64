import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONTEXT, AppContext, Dependency } from './app-context';

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

  @Get('health')
  @ApiOperation({ summary: '200 when every dependency answers, 503 otherwise' })
  async health(@Res() res: Response) {
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
    const ok = results.every(([, r]) => r.status === 'up');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'error', app: this.ctx.name, uptimeSeconds: Math.round(process.uptime()), dependencies: Object.fromEntries(results) });
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
