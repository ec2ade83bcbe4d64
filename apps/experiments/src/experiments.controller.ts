import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { AdminOnly, ApiRoute } from '@recsys/platform';
import {
  assignmentRequest,
  assignmentResponse,
  createExperimentRequest,
  defaultsResponse,
  experimentListResponse,
  experimentResponse,
  holdoutRequest,
  keyParams,
  opeResponse,
  resultsQuery,
  resultsResponse,
  shipRequest,
  updateExperimentRequest,
  type AssignmentRequest,
  type CreateExperimentRequest,
  type ResultsQuery,
  type UpdateExperimentRequest,
} from './api/dto';
import { ExperimentsService } from './experiments.service';

const NOT_FOUND = { 404: ['experiment_not_found'] } as const;
const TRANSITION = { 404: ['experiment_not_found'], 409: ['invalid_transition'] } as const;

@ApiTags('experiments')
@Controller('v1')
export class ExperimentsController {
  constructor(@Inject(ExperimentsService) private readonly svc: ExperimentsService) {}

  @Post('assignments')
  @HttpCode(200)
  @ApiRoute({
    summary: "A user's variants of every running experiment and the effective config overrides",
    description:
      'GrowthBook-compatible hashing (hash version 2, seeds, bucket ranges, coverage): the `growthbook` form of each experiment, run by the GrowthBook SDK with attributes {id: userId, ...attributes}, gives the same variant. Layers are mutually exclusive; the global holdout gets no experiment.',
    body: assignmentRequest,
    responses: { 200: assignmentResponse },
  })
  assign(@Body() body: AssignmentRequest) {
    return this.svc.assign(body.userId, body.attributes);
  }

  @Get('experiments')
  @ApiRoute({ summary: 'Every experiment (newest first) and the global holdout', responses: { 200: experimentListResponse } })
  list() {
    return this.svc.list();
  }

  @Post('experiments')
  @AdminOnly()
  @ApiRoute({
    summary: 'Create an experiment (draft, or running with start: true)',
    body: createExperimentRequest,
    responses: { 201: experimentResponse },
    errors: { 409: ['experiment_exists', 'layer_full'], 422: ['duplicate_variant', 'layer_share_without_layer'] },
  })
  async create(@Body() body: CreateExperimentRequest) {
    return this.svc.create(body);
  }

  @Get('experiments/:key')
  @ApiRoute({ summary: 'One experiment with its GrowthBook SDK form', params: keyParams, responses: { 200: experimentResponse }, errors: NOT_FOUND })
  async get(@Param() p: { key: string }) {
    return this.svc.view(await this.svc.get(p.key));
  }

  @Patch('experiments/:key')
  @AdminOnly()
  @ApiRoute({
    summary: 'Rename, describe, or ramp coverage up (a running experiment cannot lower it: that would move assigned users)',
    params: keyParams,
    body: updateExperimentRequest,
    responses: { 200: experimentResponse },
    errors: { 404: ['experiment_not_found'], 409: ['experiment_shipped', 'coverage_decrease'] },
  })
  update(@Param() p: { key: string }, @Body() body: UpdateExperimentRequest) {
    return this.svc.update(p.key, body);
  }

  @Post('experiments/:key/start')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'draft (or stopped) -> running; takes its share of its layer',
    params: keyParams,
    responses: { 200: experimentResponse },
    errors: { ...TRANSITION, 409: ['invalid_transition', 'layer_full'] },
  })
  start(@Param() p: { key: string }) {
    return this.svc.transition(p.key, 'running');
  }

  @Post('experiments/:key/stop')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({ summary: 'running -> stopped: nobody is assigned any more, results stay', params: keyParams, responses: { 200: experimentResponse }, errors: TRANSITION })
  stop(@Param() p: { key: string }) {
    return this.svc.transition(p.key, 'stopped');
  }

  @Post('experiments/:key/ship')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: "running/stopped -> shipped: the variant's overrides become the default config of every user",
    params: keyParams,
    body: shipRequest,
    responses: { 200: experimentResponse },
    errors: { ...TRANSITION, 422: ['unknown_variant'] },
  })
  ship(@Param() p: { key: string }, @Body() body: { variant: string }) {
    return this.svc.transition(p.key, 'shipped', body.variant);
  }

  @Get('experiments/:key/results')
  @ApiRoute({
    summary: 'Per-variant users, metric means, lifts with intervals (sequential by default), chance to win, SRM, and the daily cumulative lift with its confidence sequence',
    params: keyParams,
    query: resultsQuery,
    responses: { 200: resultsResponse },
    errors: NOT_FOUND,
  })
  results(@Param() p: { key: string }, @Query() q: ResultsQuery) {
    return this.svc.results(p.key, q);
  }

  @Get('experiments/:key/ope')
  @ApiRoute({
    summary: "Off-policy estimate of each variant's ad-load policy from logged decisions (IPS, SNIPS)",
    params: keyParams,
    responses: { 200: opeResponse },
    errors: NOT_FOUND,
  })
  ope(@Param() p: { key: string }) {
    return this.svc.ope(p.key);
  }

  @Get('defaults')
  @ApiRoute({ summary: 'The config defaults made by shipped variants', responses: { 200: defaultsResponse } })
  defaults() {
    return this.svc.defaultsView();
  }

  @Put('holdout')
  @AdminOnly()
  @ApiRoute({ summary: 'Set the global holdout (share of users in no experiment)', body: holdoutRequest, responses: { 200: z.strictObject({ seed: z.string(), fraction: z.number() }) } })
  holdout(@Body() body: { fraction: number; seed?: string }, @Res({ passthrough: true }) _res: Response) {
    return this.svc.setHoldout(body.fraction, body.seed);
  }
}
