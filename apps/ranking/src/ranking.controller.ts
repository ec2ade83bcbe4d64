import { Body, Controller, Get, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodBody } from '@recsys/platform';
import { rankRequest, rankRequestJsonSchema, type RankRequest } from './api/dto';
import { RankingService } from './ranking.service';

const ms = (x: number) => Math.round(x * 1000) / 1000;

@ApiTags('ranking')
@Controller('v1')
export class RankingController {
  constructor(@Inject(RankingService) private readonly ranking: RankingService) {}

  @Post('rank')
  @HttpCode(200)
  @ApiOperation({
    summary: 'pCTR of each candidate for a user in a domain, best first ([{itemId, pctr}]; with explain=true also the routing coefficients)',
    description:
      'Scored by the live model. Unknown users and items get default features. Headers: x-model-name, x-model-version, ' +
      'x-shadow-version (when a shadow model also scored the request), server-timing (state, features, model).',
  })
  @ApiBody({ schema: rankRequestJsonSchema })
  async rank(@Body(new ZodBody(rankRequest)) body: RankRequest, @Query('explain') explain: string | undefined, @Res({ passthrough: true }) res: Response) {
    if (explain === 'true' || explain === '1') body.explain = true;
    const r = await this.ranking.rank(body);
    res.setHeader('x-model-name', r.model.name);
    res.setHeader('x-model-version', r.model.version);
    if (r.shadowVersion) res.setHeader('x-shadow-version', r.shadowVersion);
    res.setHeader('server-timing', `state;dur=${ms(r.timings.stateMs)}, features;dur=${ms(r.timings.featureMs)}, model;dur=${ms(r.timings.modelMs)}`);
    return r.items;
  }

  @Get('status')
  @ApiOperation({ summary: "This replica's models (live, shadow, load problems), catalog size and whether it has caught up" })
  status() {
    return this.ranking.status();
  }
}
