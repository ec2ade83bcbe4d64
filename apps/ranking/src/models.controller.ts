import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, ApiRoute } from '@recsys/platform';
import {
  changeResponse,
  describeResponse,
  listResponse,
  modelParams,
  promoteRequest,
  registerRequest,
  registerResponse,
  rollbackResponse,
  versionParams,
  versionSummary,
  type PromoteRequest,
  type RegisterRequest,
} from './api/dto';
import { RankingService } from './ranking.service';

type ModelParams = { name: string };
type VersionParams = { name: string; version: string };
const MODEL_REJECTED = ['feature_spec_invalid', 'feature_spec_mismatch', 'model_invalid', 'model_spec_mismatch'];

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(RankingService) private readonly ranking: RankingService) {}

  @Get()
  @ApiRoute({ summary: 'Every model name with its live and shadow versions', responses: { 200: listResponse } })
  list() {
    return this.ranking.list();
  }

  @Get(':name')
  @ApiRoute({
    summary: "A model's versions (status, checksum, spec, metrics), its last lifecycle events and what this replica serves",
    params: modelParams,
    responses: { 200: describeResponse },
    errors: { 404: ['model_not_found'] },
  })
  describe(@Param() p: ModelParams) {
    return this.ranking.describe(p.name);
  }

  @Get(':name/versions/:version')
  @ApiRoute({
    summary: 'One version: status, checksum, size, feature spec, offline metrics',
    params: versionParams,
    responses: { 200: versionSummary },
    errors: { 404: ['model_not_found', 'model_version_not_found'] },
  })
  version(@Param() p: VersionParams) {
    return this.ranking.version(p.name, p.version);
  }

  @Post(':name/versions/:version')
  @AdminOnly()
  @ApiRoute({
    summary: 'Register (upload) a version as staged',
    description:
      'The artefact is checked before it is stored: the feature spec must be valid and fit this deployment (SDIM hash functions, embedding size), ' +
      'the ONNX model must load, take exactly the spec inputs, produce pctr and routing and score a warm-up batch; otherwise 422. ' +
      '201 when created, 200 when the same artefact was registered before, 409 version_exists for another artefact under the same version.',
    params: versionParams,
    body: registerRequest,
    responses: { 201: { description: 'registered', schema: registerResponse }, 200: { description: 'the same artefact was registered before', schema: registerResponse } },
    errors: { 409: ['version_exists'], 422: MODEL_REJECTED },
  })
  async register(@Param() p: VersionParams, @Body() body: RegisterRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.ranking.register(p.name, p.version, body);
    res.status(r.created ? 201 : 200);
    return r;
  }

  @Post(':name/versions/:version/promote')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'Make a version the shadow or the live one (the one it replaces is retired); every replica swaps it in',
    params: versionParams,
    body: promoteRequest,
    responses: { 200: changeResponse },
    errors: { 404: ['model_not_found', 'model_version_not_found'], 409: ['model_is_live'] },
  })
  promote(@Param() p: VersionParams, @Body() body: PromoteRequest) {
    return this.ranking.promote(p.name, p.version, body);
  }

  @Post(':name/versions/:version/retire')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'Retire a staged or shadow version (ends a shadow run); the live version cannot be retired',
    params: versionParams,
    responses: { 200: changeResponse },
    errors: { 404: ['model_not_found', 'model_version_not_found'], 409: ['model_is_live'] },
  })
  retire(@Param() p: VersionParams) {
    return this.ranking.retire(p.name, p.version);
  }

  @Post(':name/rollback')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'Retire the live version and make the version it replaced live again',
    params: modelParams,
    responses: { 200: rollbackResponse },
    errors: { 404: ['model_not_found'], 409: ['no_live_model', 'no_previous_version'] },
  })
  rollback(@Param() p: ModelParams) {
    return this.ranking.rollback(p.name);
  }
}
