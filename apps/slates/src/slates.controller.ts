import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ApiRoute } from '@recsys/platform';
import { positionBiasResponse, posteriorParams, posteriorResponse, slateRequest, slateResponse, type SlateRequest } from './api/dto';
import { SlatesService } from './slates.service';

@ApiTags('slates')
@Controller('v1/slates')
export class SlatesController {
  constructor(@Inject(SlatesService) private readonly slates: SlatesService) {}

  @Post()
  @HttpCode(200)
  @ApiRoute({
    summary: 'A slate of `size` items from scored candidates, with per-slot propensities',
    description:
      'Posteriors: logit P(click | examined) = a logit(score) + b_group + d_item (hierarchical Gaussian prior, diagonal Laplace updates from feed.impressions/feed.feedback), or Beta-Bernoulli (model=beta). ' +
      'Policies: greedy, epsilon-greedy, bayes-ucb, slate-ts, in-slate-ts (default; one posterior draw per slot, interleaved). ' +
      'Propensities exact for greedy, epsilon-greedy (no group cap) and bayes-ucb, else Monte Carlo over `draws` reruns, deterministic under `seed`, floored at 1/(2 draws).',
    body: slateRequest,
    responses: { 200: slateResponse },
    errors: { 422: ['duplicate_candidates', 'too_many_candidates'], 503: ['state_unavailable'] },
  })
  build(@Body() body: SlateRequest) {
    return this.slates.build(body);
  }

  @Get('position-bias')
  @ApiRoute({
    summary: 'Examination probability per position (PBM by EM over the joined feedback, or the default until there is enough)',
    responses: { 200: positionBiasResponse },
    errors: { 503: ['state_unavailable'] },
  })
  positionBias() {
    return this.slates.positionBias();
  }

  @Get('posteriors/:itemId')
  @ApiRoute({
    summary: "An item's posterior: its effect, its group's, the score slope, and the Beta-Bernoulli view",
    params: posteriorParams,
    responses: { 200: posteriorResponse },
    errors: { 404: ['posterior_not_found'], 503: ['state_unavailable'] },
  })
  posterior(@Param() p: z.output<typeof posteriorParams>) {
    return this.slates.posterior(p.itemId);
  }
}
