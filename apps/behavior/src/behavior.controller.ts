import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { embeddingProblem } from '@recsys/contracts';
import { ApiRoute, DomainError } from '@recsys/platform';
import { embeddingResponse, historyQuery, historyResponse, interestRequest, interestResponse, userParams, type InterestRequest } from './api/dto';
import { BehaviorService } from './behavior.service';

const STATE_DOWN = { 503: ['state_unavailable'] } as const;

@ApiTags('behavior')
@Controller('v1/users')
export class BehaviorController {
  constructor(@Inject(BehaviorService) private readonly behavior: BehaviorService) {}

  @Get(':id/history')
  @ApiRoute({ summary: "The user's behaviour history, newest first", params: userParams, query: historyQuery, responses: { 200: historyResponse }, errors: STATE_DOWN })
  history(@Param() p: { id: string }, @Query() q: { limit: number }) {
    return this.behavior.history(p.id, q.limit);
  }

  @Post(':id/interest')
  @HttpCode(200)
  @ApiRoute({
    summary: 'SDIM interest vectors of the user for candidate items or vectors',
    description: 'Exactly one of `itemIds` or `vectors`; vectors have the suite dimension (EMBEDDING_DIM) and an L2 norm of at most 1024.',
    params: userParams,
    body: interestRequest,
    responses: { 200: interestResponse },
    errors: { 422: ['unknown_items', 'dimension_mismatch', 'vector_norm_too_large', 'vector_out_of_range', 'vector_not_finite', 'vector_empty'], ...STATE_DOWN },
  })
  interest(@Param() p: { id: string }, @Body() body: InterestRequest) {
    for (const [i, v] of (body.vectors ?? []).entries()) {
      const problem = embeddingProblem(v);
      if (problem) throw new DomainError(problem.code, 422, `vectors[${i}]: ${problem.message}`, { index: i });
    }
    return this.behavior.interest(p.id, body);
  }

  @Get(':id/embedding')
  @ApiRoute({
    summary: "The user's embedding for retrieval (recency-weighted mean of behaviour embeddings)",
    params: userParams,
    responses: { 200: embeddingResponse },
    errors: { 404: ['user_embedding_not_found'], ...STATE_DOWN },
  })
  embedding(@Param() p: { id: string }) {
    return this.behavior.embedding(p.id);
  }
}
