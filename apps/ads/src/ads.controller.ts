import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { AdminOnly, DomainError, ZodBody } from '@recsys/platform';
import {
  createCampaignRequest,
  type CreateCampaignRequest,
  creativeRequest,
  type CreativeRequest,
  deliveryQuery,
  fillRequest,
  type FillRequest,
  schemas,
  trackRequest,
  type TrackRequest,
  updateCampaignRequest,
  type UpdateCampaignRequest,
} from './api/dto';
import { AdsService } from './ads.service';

const pathId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
function idParam(name: string, v: string): string {
  if (!pathId.safeParse(v).success) throw new DomainError('validation_failed', 422, `invalid ${name}`, { errors: [{ path: name, message: 'letters, digits, . _ : - (max 200)' }] });
  return v;
}
const problem = (status: number, description: string) => ApiResponse({ status, description: `problem+json: ${description}` });

@ApiTags('ads')
@Controller('v1/ads')
export class AdsController {
  constructor(@Inject(AdsService) private readonly ads: AdsService) {}

  @Post('fill')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Fill ad slots: eligible ads near the user (retrieval, namespace ads), pCTR (ranking, domain ads), eCPM, auction, budget reservation',
    description: 'Each ad carries the price its winner pays (per click for CPC, per mille for CPM) and a tracking token for POST /v1/ads/events.',
  })
  @ApiBody({ schema: schemas.fill })
  @ApiResponse({ status: 200, schema: schemas.fillOut })
  @problem(422, 'validation_failed')
  fill(@Body(new ZodBody(fillRequest)) body: FillRequest) {
    return this.ads.fill(body);
  }

  @Post('events')
  @HttpCode(202)
  @ApiOperation({ summary: 'Report an impression, click or conversion of a filled ad by its tracking token (published to ads.events, billed once)' })
  @ApiBody({ schema: schemas.track })
  @ApiResponse({ status: 202, schema: { type: 'object', properties: { eventId: { type: 'string' }, accepted: { type: 'boolean' } } } })
  @problem(422, 'validation_failed / invalid_token')
  track(@Body(new ZodBody(trackRequest)) body: TrackRequest) {
    return this.ads.track(body);
  }

  @Post('campaigns')
  @AdminOnly()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a campaign (money in currency units; stored as micros)' })
  @ApiBody({ schema: schemas.createCampaign })
  @ApiResponse({ status: 201, schema: schemas.campaign })
  @problem(409, 'campaign_exists')
  @problem(422, 'validation_failed')
  create(@Body(new ZodBody(createCampaignRequest)) body: CreateCampaignRequest) {
    return this.ads.createCampaign(body);
  }

  @Get('campaigns')
  @AdminOnly()
  @ApiOperation({ summary: 'Every campaign' })
  @ApiResponse({ status: 200, schema: schemas.campaigns })
  list() {
    return this.ads.listCampaigns();
  }

  @Get('campaigns/:id')
  @AdminOnly()
  @ApiOperation({ summary: 'A campaign with its creatives' })
  @ApiResponse({ status: 200, schema: schemas.campaign })
  @problem(404, 'campaign_not_found')
  get(@Param('id') id: string) {
    return this.ads.getCampaign(idParam('id', id));
  }

  @Patch('campaigns/:id')
  @AdminOnly()
  @ApiOperation({ summary: 'Update a campaign (any subset of its fields); archived campaigns are read-only' })
  @ApiBody({ schema: schemas.updateCampaign })
  @ApiResponse({ status: 200, schema: schemas.campaign })
  @problem(404, 'campaign_not_found')
  @problem(409, 'campaign_archived')
  @problem(422, 'validation_failed')
  update(@Param('id') id: string, @Body(new ZodBody(updateCampaignRequest)) body: UpdateCampaignRequest) {
    return this.ads.updateCampaign(idParam('id', id), body);
  }

  @Post('campaigns/:id/pause')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a campaign (it stops serving at once; budgets are kept)' })
  @ApiResponse({ status: 200, schema: schemas.campaign })
  @problem(404, 'campaign_not_found')
  @problem(409, 'campaign_archived')
  pause(@Param('id') id: string) {
    return this.ads.updateCampaign(idParam('id', id), { status: 'paused' }, 'campaign_pause');
  }

  @Post('campaigns/:id/resume')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused campaign' })
  @ApiResponse({ status: 200, schema: schemas.campaign })
  @problem(404, 'campaign_not_found')
  @problem(409, 'campaign_archived')
  resume(@Param('id') id: string) {
    return this.ads.updateCampaign(idParam('id', id), { status: 'active' });
  }

  @Post('campaigns/:id/archive')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Archive a campaign: it never serves again and its creatives leave the ads index' })
  @ApiResponse({ status: 200, schema: schemas.campaign })
  @problem(404, 'campaign_not_found')
  @problem(409, 'campaign_archived')
  archive(@Param('id') id: string) {
    return this.ads.updateCampaign(idParam('id', id), { status: 'archived' }, 'campaign_archive');
  }

  @Put('campaigns/:id/creatives/:creativeId')
  @AdminOnly()
  @ApiOperation({ summary: 'Create or replace a creative; its embedding is published to catalog.items (namespace ads) for retrieval' })
  @ApiBody({ schema: schemas.creative })
  @ApiResponse({ status: 200, description: 'replaced', schema: schemas.creativeOut })
  @ApiResponse({ status: 201, description: 'created', schema: schemas.creativeOut })
  @problem(404, 'campaign_not_found')
  @problem(409, 'campaign_archived / creative_conflict')
  async creative(@Param('id') id: string, @Param('creativeId') creativeId: string, @Body(new ZodBody(creativeRequest)) body: CreativeRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.ads.upsertCreative(idParam('id', id), idParam('creativeId', creativeId), body);
    res.status(r.created ? 201 : 200);
    return r.creative;
  }

  @Get('campaigns/:id/delivery')
  @AdminOnly()
  @ApiOperation({ summary: 'Spend against the target curve, impressions, clicks, CTR and effective CPM of a campaign-local day, by hour' })
  @ApiQuery({ name: 'day', required: false, description: 'YYYY-MM-DD in the campaign time zone (default today)' })
  @ApiResponse({ status: 200, schema: schemas.delivery })
  @problem(404, 'campaign_not_found')
  delivery(@Param('id') id: string, @Query() query: Record<string, string>) {
    const q = deliveryQuery.safeParse(query);
    if (!q.success) throw new DomainError('validation_failed', 422, 'invalid query', { errors: q.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    return this.ads.delivery(idParam('id', id), q.data.day);
  }
}
