import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { embeddingProblem } from '@recsys/contracts';
import { AdminOnly, ApiRoute, DomainError } from '@recsys/platform';
import { candidatesRequest, candidatesResponse, indexesResponse, jobParams, jobResponse, namespaceParams, rebuildRequest, type CandidatesRequest, type RebuildRequest } from './api/dto';
import { RetrievalService } from './retrieval.service';

/** The query vector's range and norm checks (422 with the embedding's code), shared with the in-process call. */
export function vectorProblem(body: CandidatesRequest): void {
  if (!body.vector) return;
  const p = embeddingProblem(body.vector);
  if (p) throw new DomainError(p.code, 422, p.message);
}

@ApiTags('retrieval')
@Controller('v1')
export class RetrievalController {
  constructor(@Inject(RetrievalService) private readonly retrieval: RetrievalService) {}

  @Post('candidates')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Nearest items to a vector or to a user embedding, with group / exclusion filters',
    description: 'Exactly one of `vector` or `userId`. The vector must have the namespace dimension and an L2 norm of at most 1024.',
    body: candidatesRequest,
    responses: { 200: candidatesResponse },
    errors: {
      404: ['namespace_not_found', 'user_embedding_not_found'],
      422: ['dimension_mismatch', 'vector_norm_too_large', 'vector_out_of_range', 'vector_not_finite', 'vector_empty'],
      503: ['state_unavailable'],
    },
  })
  async candidates(@Body() body: CandidatesRequest) {
    vectorProblem(body);
    return this.retrieval.candidates(body);
  }

  @Get('indexes')
  @ApiRoute({ summary: 'Kind, size, memory, parameters and last applied offsets of every namespace index', responses: { 200: indexesResponse } })
  indexes() {
    return this.retrieval.indexes();
  }

  @Post('indexes/:namespace/rebuild')
  @AdminOnly()
  @HttpCode(202)
  @ApiRoute({
    summary: 'Queue a rebuild of a namespace from the catalog log (optionally switching kind)',
    params: namespaceParams,
    body: rebuildRequest,
    responses: { 202: { description: 'the queued job', schema: jobResponse } },
    errors: { 404: ['namespace_not_found'] },
  })
  async rebuild(@Param() p: { namespace: string }, @Body() body: RebuildRequest) {
    return this.retrieval.rebuild(p.namespace, body.kind);
  }

  @Get('jobs/:id')
  @ApiRoute({ summary: 'State and progress of a rebuild job', params: jobParams, responses: { 200: jobResponse }, errors: { 404: ['job_not_found'] } })
  async job(@Param() p: { id: string }) {
    return this.retrieval.job(p.id);
  }
}
