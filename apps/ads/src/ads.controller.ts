import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { AdminOnly, ApiRoute } from '@recsys/platform';
import {
  campaignResponse,
  createCampaignRequest,
  type CreateCampaignRequest,
  creativeRequest,
  type CreativeRequest,
  creativeResponse,
  deliveryQuery,
  deliveryResponse,
  fillRequest,
  type FillRequest,
  fillResponse,
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
const campaignParams = z.strictObject({ id: pathId });
const creativeParams = z.strictObject({ id: pathId, creativeId: pathId });
type CampaignParams = z.output<typeof campaignParams>;
const campaignWithCreatives = campaignResponse.extend({ creatives: z.array(creativeResponse) });
const trackResponse = z.object({ eventId: z.string(), accepted: z.boolean() });
const schedule = ['invalid_schedule', 'unknown_time_zone'];

@ApiTags('ads')
@Controller('v1/ads')
export class AdsController {
  constructor(@Inject(AdsService) private readonly ads: AdsService) {}

  @Post('fill')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Fill ad slots: eligible ads near the user (retrieval, namespace ads), pCTR (ranking, domain ads), eCPM, auction, budget reservation',
    description: 'Each ad carries the price its winner pays (per click for CPC, per mille for CPM) and a tracking token for POST /v1/ads/events.',
    body: fillRequest,
    responses: { 200: fillResponse },
    errors: { 422: ['duplicate_positions'], 503: ['state_unavailable'] },
  })
  fill(@Body() body: FillRequest) {
    return this.ads.fill(body);
  }

  @Post('events')
  @HttpCode(202)
  @ApiRoute({
    summary: 'Report an impression, click or conversion of a filled ad by its tracking token (published to ads.events, billed once)',
    body: trackRequest,
    responses: { 202: trackResponse },
    errors: { 422: ['invalid_token'] },
  })
  track(@Body() body: TrackRequest) {
    return this.ads.track(body);
  }

  @Post('campaigns')
  @AdminOnly()
  @HttpCode(201)
  @ApiRoute({
    summary: 'Create a campaign (money in currency units; stored as micros)',
    body: createCampaignRequest,
    responses: { 201: campaignResponse },
    errors: { 409: ['campaign_exists'], 422: schedule },
  })
  create(@Body() body: CreateCampaignRequest) {
    return this.ads.createCampaign(body);
  }

  @Get('campaigns')
  @AdminOnly()
  @ApiRoute({ summary: 'Every campaign', responses: { 200: z.array(campaignResponse) } })
  list() {
    return this.ads.listCampaigns();
  }

  @Get('campaigns/:id')
  @AdminOnly()
  @ApiRoute({ summary: 'A campaign with its creatives', params: campaignParams, responses: { 200: campaignWithCreatives }, errors: { 404: ['campaign_not_found'] } })
  get(@Param() p: CampaignParams) {
    return this.ads.getCampaign(p.id);
  }

  @Patch('campaigns/:id')
  @AdminOnly()
  @ApiRoute({
    summary: 'Update a campaign (any subset of its fields); archived campaigns are read-only',
    params: campaignParams,
    body: updateCampaignRequest,
    responses: { 200: campaignResponse },
    errors: { 404: ['campaign_not_found'], 409: ['campaign_archived'], 422: [...schedule, 'nothing_to_update'] },
  })
  update(@Param() p: CampaignParams, @Body() body: UpdateCampaignRequest) {
    return this.ads.updateCampaign(p.id, body);
  }

  @Post('campaigns/:id/pause')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'Pause a campaign (it stops serving at once; budgets are kept)',
    params: campaignParams,
    responses: { 200: campaignResponse },
    errors: { 404: ['campaign_not_found'], 409: ['campaign_archived'] },
  })
  pause(@Param() p: CampaignParams) {
    return this.ads.updateCampaign(p.id, { status: 'paused' }, 'campaign_pause');
  }

  @Post('campaigns/:id/resume')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({ summary: 'Resume a paused campaign', params: campaignParams, responses: { 200: campaignResponse }, errors: { 404: ['campaign_not_found'], 409: ['campaign_archived'] } })
  resume(@Param() p: CampaignParams) {
    return this.ads.updateCampaign(p.id, { status: 'active' });
  }

  @Post('campaigns/:id/archive')
  @AdminOnly()
  @HttpCode(200)
  @ApiRoute({
    summary: 'Archive a campaign: it never serves again and its creatives leave the ads index',
    params: campaignParams,
    responses: { 200: campaignResponse },
    errors: { 404: ['campaign_not_found'], 409: ['campaign_archived'] },
  })
  archive(@Param() p: CampaignParams) {
    return this.ads.updateCampaign(p.id, { status: 'archived' }, 'campaign_archive');
  }

  @Put('campaigns/:id/creatives/:creativeId')
  @AdminOnly()
  @ApiRoute({
    summary: 'Create or replace a creative; its embedding is published to catalog.items (namespace ads) for retrieval',
    params: creativeParams,
    body: creativeRequest,
    responses: { 200: { schema: creativeResponse, description: 'replaced' }, 201: { schema: creativeResponse, description: 'created' } },
    errors: {
      404: ['campaign_not_found'],
      409: ['campaign_archived', 'creative_conflict'],
      422: ['dimension_mismatch', 'vector_not_finite', 'vector_out_of_range', 'vector_norm_too_large', 'vector_empty'],
    },
  })
  async creative(@Param() p: z.output<typeof creativeParams>, @Body() body: CreativeRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.ads.upsertCreative(p.id, p.creativeId, body);
    res.status(r.created ? 201 : 200);
    return r.creative;
  }

  @Get('campaigns/:id/delivery')
  @AdminOnly()
  @ApiRoute({
    summary: 'Spend against the target curve, impressions, clicks, CTR and effective CPM of a campaign-local day, by hour',
    params: campaignParams,
    query: deliveryQuery,
    responses: { 200: deliveryResponse },
    errors: { 404: ['campaign_not_found'] },
  })
  delivery(@Param() p: CampaignParams, @Query() q: z.output<typeof deliveryQuery>) {
    return this.ads.delivery(p.id, q.day);
  }
}
