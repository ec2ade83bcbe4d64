import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, ZodBody } from '@recsys/platform';
import { candidatesRequest, CandidatesRequest, candidatesRequestJsonSchema, rebuildRequest, RebuildRequest, rebuildRequestJsonSchema } from './api/dto';
import { RetrievalService } from './retrieval.service';

@ApiTags('retrieval')
@Controller('v1')
export class RetrievalController {
  constructor(@Inject(RetrievalService) private readonly retrieval: RetrievalService) {}

  @Post('candidates')
  @HttpCode(200)
  @ApiOperation({ summary: 'Nearest items to a vector or to a user embedding, with group / exclusion filters' })
  @ApiBody({ schema: candidatesRequestJsonSchema as object })
  async candidates(@Body(new ZodBody(candidatesRequest)) body: CandidatesRequest) {
    return this.retrieval.candidates(body);
  }

  @Get('indexes')
  @ApiOperation({ summary: 'Kind, size, memory, parameters and last applied offsets of every namespace index' })
  indexes() {
    return this.retrieval.indexes();
  }

  @Post('indexes/:namespace/rebuild')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a rebuild of a namespace from the catalog log (optionally switching kind)' })
  @ApiBody({ schema: rebuildRequestJsonSchema as object, required: false })
  async rebuild(@Param('namespace') namespace: string, @Body(new ZodBody(rebuildRequest)) body: RebuildRequest) {
    return this.retrieval.rebuild(namespace, body.kind);
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'State and progress of a rebuild job' })
  async job(@Param('id') id: string) {
    return this.retrieval.job(id);
  }
}
