import { Body, Controller, Get, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { ApiRoute } from '@recsys/platform';
import { rankQuery, rankRequest, rankResponse, statusResponse, type RankRequest } from './api/dto';
import { RankingService } from './ranking.service';

const ms = (x: number) => Math.round(x * 1000) / 1000;

@ApiTags('ranking')
@Controller('v1')
export class RankingController {
  constructor(@Inject(RankingService) private readonly ranking: RankingService) {}

  @Post('rank')
  @HttpCode(200)
  @ApiRoute({
    summary: 'pCTR of each candidate for a user in a domain, best first ([{itemId, pctr}]; with explain=true also the routing coefficients)',
    description: 'Scored by the live model. Unknown users and items get default features.',
    query: rankQuery,
    body: rankRequest,
    responses: {
      200: {
        schema: rankResponse,
        headers: {
          'x-model-name': { schema: z.string(), description: 'model that scored' },
          'x-model-version': { schema: z.string(), description: 'its live version' },
          'x-shadow-version': { schema: z.string(), description: 'the shadow version that also scored the request', optional: true },
          'server-timing': { schema: z.string(), description: 'state, features, model (ms)' },
        },
      },
    },
    errors: { 422: ['unknown_domain', 'too_many_candidates'], 503: ['no_live_model', 'state_unavailable'] },
  })
  async rank(@Body() body: RankRequest, @Query() q: z.output<typeof rankQuery>, @Res({ passthrough: true }) res: Response) {
    if (q.explain === 'true' || q.explain === '1') body.explain = true;
    const r = await this.ranking.rank(body);
    res.setHeader('x-model-name', r.model.name);
    res.setHeader('x-model-version', r.model.version);
    if (r.shadowVersion) res.setHeader('x-shadow-version', r.shadowVersion);
    res.setHeader('server-timing', `state;dur=${ms(r.timings.stateMs)}, features;dur=${ms(r.timings.featureMs)}, model;dur=${ms(r.timings.modelMs)}`);
    return r.items;
  }

  @Get('status')
  @ApiRoute({ summary: "This replica's models (live, shadow, load problems), catalog size and whether it has caught up", responses: { 200: statusResponse } })
  status() {
    return this.ranking.status();
  }
}
