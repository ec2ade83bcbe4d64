import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ADMIN_AUTH_SCHEME, ApiRoute } from '@recsys/platform';
import { API_KEY_SCOPES } from './api-keys';
import { GATEWAY_AUTH, KeyAdminGuard, type GatewayAuth } from './api-key.guard';

export const createKeyRequest = z
  .object({
    name: z.string().min(1).max(200),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
    ratePerSec: z.number().positive().max(1e6).optional(),
    burst: z.number().int().positive().max(1e7).optional(),
  })
  .strict();

const keyRecord = z.object({
  keyId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  ratePerSec: z.number().nullable(),
  burst: z.number().int().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
const keyParams = z.strictObject({ keyId: z.string().min(1).max(200) });
const guardErrors = { 401: ['unauthorized', 'invalid_token', 'invalid_api_key'], 403: ['insufficient_scope'] };

@ApiTags('api keys')
@Controller('v1/admin/api-keys')
@UseGuards(KeyAdminGuard)
@ApiBearerAuth(ADMIN_AUTH_SCHEME)
export class ApiKeysController {
  constructor(@Inject(GATEWAY_AUTH) private readonly auth: GatewayAuth) {}

  @Post()
  @HttpCode(201)
  @ApiRoute({
    summary: 'Create an API key; the key itself (`apiKey`) is shown only in this answer, only its digest is stored',
    body: createKeyRequest,
    responses: { 201: keyRecord.extend({ apiKey: z.string() }) },
    errors: guardErrors,
  })
  create(@Body() body: z.output<typeof createKeyRequest>) {
    return this.auth.keys.create(body);
  }

  @Get()
  @ApiRoute({ summary: 'Every API key (never the secret)', responses: { 200: z.array(keyRecord) }, errors: guardErrors })
  list() {
    return this.auth.keys.list();
  }

  @Delete(':keyId')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Revoke a key (takes effect within GATEWAY_KEY_CACHE_MS on other replicas, at once on this one)',
    params: keyParams,
    responses: { 200: keyRecord },
    errors: { ...guardErrors, 404: ['api_key_not_found'] },
  })
  revoke(@Param() p: z.output<typeof keyParams>) {
    return this.auth.keys.revoke(p.keyId);
  }
}
