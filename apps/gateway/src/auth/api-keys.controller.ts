import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ADMIN_AUTH_SCHEME, ZodBody } from '@recsys/platform';
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
const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object;

@ApiTags('api keys')
@Controller('v1/admin/api-keys')
@UseGuards(KeyAdminGuard)
@ApiBearerAuth(ADMIN_AUTH_SCHEME)
@ApiResponse({ status: 401, description: 'problem+json `unauthorized` / `invalid_token` / `invalid_api_key`' })
@ApiResponse({ status: 403, description: 'problem+json `insufficient_scope` (an x-api-key without the admin scope)' })
export class ApiKeysController {
  constructor(@Inject(GATEWAY_AUTH) private readonly auth: GatewayAuth) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key; the key itself (`apiKey`) is shown only in this answer, only its digest is stored' })
  @ApiBody({ schema: json(createKeyRequest) })
  @ApiCreatedResponse({ schema: json(keyRecord.extend({ apiKey: z.string() })) })
  create(@Body(new ZodBody(createKeyRequest)) body: z.output<typeof createKeyRequest>) {
    return this.auth.keys.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Every API key (never the secret)' })
  @ApiOkResponse({ schema: json(z.array(keyRecord)) })
  list() {
    return this.auth.keys.list();
  }

  @Delete(':keyId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key (takes effect within GATEWAY_KEY_CACHE_MS on other replicas, at once on this one)' })
  @ApiOkResponse({ schema: json(keyRecord) })
  revoke(@Param('keyId') keyId: string) {
    return this.auth.keys.revoke(keyId);
  }
}
