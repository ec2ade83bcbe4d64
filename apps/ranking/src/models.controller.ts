import { Body, Controller, Get, HttpCode, Inject, Param, PipeTransform, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, DomainError, ZodBody } from '@recsys/platform';
import { modelNamePattern, promoteRequest, promoteRequestJsonSchema, registerRequest, registerRequestJsonSchema, type PromoteRequest, type RegisterRequest } from './api/dto';
import { RankingService } from './ranking.service';

/** Model names and versions appear in URLs, events and metrics labels: a conservative alphabet. */
class NamePart implements PipeTransform<string, string> {
  constructor(private readonly what: 'name' | 'version') {}
  transform(v: string): string {
    if (!modelNamePattern.test(v)) throw new DomainError('validation_failed', 422, `model ${this.what} '${v}' must match ${modelNamePattern.source}`, { errors: [{ path: this.what, message: 'invalid' }] });
    return v;
  }
}

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(RankingService) private readonly ranking: RankingService) {}

  @Get()
  @ApiOperation({ summary: 'Every model name with its live and shadow versions' })
  list() {
    return this.ranking.list();
  }

  @Get(':name')
  @ApiOperation({ summary: "A model's versions (status, checksum, spec, metrics), its last lifecycle events and what this replica serves" })
  describe(@Param('name', new NamePart('name')) name: string) {
    return this.ranking.describe(name);
  }

  @Get(':name/versions/:version')
  @ApiOperation({ summary: 'One version: status, checksum, size, feature spec, offline metrics' })
  version(@Param('name', new NamePart('name')) name: string, @Param('version', new NamePart('version')) version: string) {
    return this.ranking.version(name, version);
  }

  @Post(':name/versions/:version')
  @AdminOnly()
  @ApiOperation({
    summary: 'Register (upload) a version as staged',
    description:
      'The artefact is checked before it is stored: the feature spec must be valid and fit this deployment (SDIM hash functions, embedding size), ' +
      'the ONNX model must load, take exactly the spec inputs, produce pctr and routing and score a warm-up batch; otherwise 422. ' +
      '201 when created, 200 when the same artefact was registered before, 409 version_exists for another artefact under the same version.',
  })
  @ApiBody({ schema: registerRequestJsonSchema })
  async register(
    @Param('name', new NamePart('name')) name: string,
    @Param('version', new NamePart('version')) version: string,
    @Body(new ZodBody(registerRequest)) body: RegisterRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    const r = await this.ranking.register(name, version, body);
    res.status(r.created ? 201 : 200);
    return r;
  }

  @Post(':name/versions/:version/promote')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Make a version the shadow or the live one (the one it replaces is retired); every replica swaps it in' })
  @ApiBody({ schema: promoteRequestJsonSchema })
  promote(@Param('name', new NamePart('name')) name: string, @Param('version', new NamePart('version')) version: string, @Body(new ZodBody(promoteRequest)) body: PromoteRequest) {
    return this.ranking.promote(name, version, body);
  }

  @Post(':name/versions/:version/retire')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Retire a staged or shadow version (ends a shadow run); the live version cannot be retired' })
  retire(@Param('name', new NamePart('name')) name: string, @Param('version', new NamePart('version')) version: string) {
    return this.ranking.retire(name, version);
  }

  @Post(':name/rollback')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Retire the live version and make the version it replaced live again' })
  rollback(@Param('name', new NamePart('name')) name: string) {
    return this.ranking.rollback(name);
  }
}
