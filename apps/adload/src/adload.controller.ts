import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, ApiRoute, DomainError } from '@recsys/platform';
import { decideRequest, decideResponse, idParams, learnRequest, learnResponse, policiesResponse, policyResponse, reportQuery, reportResponse, type DecideRequest } from './api/dto';
import { AdloadService } from './adload.service';
import { reportSvg } from './report-plot';

@ApiTags('adload')
@Controller('v1/adload')
export class AdloadController {
  constructor(@Inject(AdloadService) private readonly adload: AdloadService) {}

  @Post('decide')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Ad-load of one feed fetch, drawn from the live stochastic policy and logged with its propensity',
    body: decideRequest,
    responses: { 200: decideResponse },
    errors: { 404: ['policy_not_found'], 422: ['unknown_surface', 'policy_surface_mismatch'], 503: ['policy_unavailable'] },
  })
  decide(@Body() body: DecideRequest) {
    return this.adload.decideRequest(body);
  }

  @Get('policies')
  @ApiRoute({ summary: 'Every policy of every surface: live, staged and the history', responses: { 200: policiesResponse } })
  async policies() {
    return { policies: await this.adload.policies.list() };
  }

  @Post('policies/:id/promote')
  @HttpCode(200)
  @AdminOnly()
  @ApiRoute({
    summary: "Make a staged policy live (only when its objective lower bound beats the live policy's estimate)",
    params: idParams,
    responses: { 200: policyResponse },
    errors: { 404: ['policy_not_found'], 409: ['policy_not_staged', 'promotion_rule_not_met'] },
  })
  promote(@Param() p: { id: string }) {
    return this.adload.promote(p.id);
  }

  @Post('learn')
  @HttpCode(200)
  @AdminOnly()
  @ApiRoute({
    summary: 'Run the learning job of a surface now (the same job the schedule runs) and return its outcome',
    body: learnRequest,
    responses: { 200: learnResponse },
    errors: { 422: ['unknown_surface'] },
  })
  learn(@Body() body: { surface: string }) {
    return this.adload.learnSurface(body.surface);
  }

  @Get('reports/:id')
  @ApiRoute({
    summary: 'An OPE report: every estimator with intervals for the live policy and each candidate (format=svg: the plot)',
    params: idParams,
    query: reportQuery,
    responses: { 200: reportResponse },
    errors: { 404: ['report_not_found'] },
  })
  async report(@Param() p: { id: string }, @Query() q: { format: 'json' | 'svg' }, @Res({ passthrough: true }) res: Response) {
    const r = await this.adload.policies.report(p.id);
    if (!r) throw new DomainError('report_not_found', 404, `report '${p.id}' does not exist`);
    if (q.format === 'svg') {
      res.type('image/svg+xml');
      return reportSvg(r.body);
    }
    return r;
  }
}
