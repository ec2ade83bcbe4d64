import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodBody } from '@recsys/platform';
import { schemas, slateRequest, type SlateRequest } from './api/dto';
import { SlatesService } from './slates.service';

const problem = (status: number, description: string) => ApiResponse({ status, description: `problem+json: ${description}` });

@ApiTags('slates')
@Controller('v1/slates')
export class SlatesController {
  constructor(@Inject(SlatesService) private readonly slates: SlatesService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'A slate of `size` items from scored candidates, with per-slot propensities',
    description:
      'Posteriors: logit P(click | examined) = a logit(score) + b_group + d_item (hierarchical Gaussian prior, diagonal Laplace updates from feed.impressions/feed.feedback), or Beta-Bernoulli (model=beta). ' +
      'Policies: greedy, epsilon-greedy, bayes-ucb, slate-ts, in-slate-ts (default; one posterior draw per slot, interleaved). ' +
      'Propensities exact for greedy, epsilon-greedy (no group cap) and bayes-ucb, else Monte Carlo over `draws` reruns, deterministic under `seed`, floored at 1/(2 draws).',
  })
  @ApiBody({ schema: schemas.slateRequest })
  @ApiResponse({ status: 200, schema: schemas.slateResponse })
  @problem(422, 'validation_failed, duplicate_candidates, too_many_candidates')
  build(@Body(new ZodBody(slateRequest)) body: SlateRequest) {
    return this.slates.build(body);
  }

  @Get('position-bias')
  @ApiOperation({ summary: 'Examination probability per position (PBM by EM over the joined feedback, or the default until there is enough)' })
  @ApiResponse({ status: 200, schema: schemas.positionBiasResponse })
  positionBias() {
    return this.slates.positionBias();
  }

  @Get('posteriors/:itemId')
  @ApiOperation({ summary: "An item's posterior: its effect, its group's, the score slope, and the Beta-Bernoulli view" })
  @ApiResponse({ status: 200, schema: schemas.posteriorResponse })
  @problem(404, 'posterior_not_found')
  posterior(@Param('itemId') itemId: string) {
    return this.slates.posterior(itemId);
  }
}
