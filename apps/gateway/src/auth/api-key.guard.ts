import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AdminGuard, DomainError } from '@recsys/platform';
import type { ApiKeyRecord, ApiKeyScope, ApiKeyService } from './api-keys';
import type { RateLimiter } from './rate-limit';

export const API_KEY_SCHEME = 'apiKey';
const SCOPE = 'gateway:scope';
export const GATEWAY_AUTH = Symbol('GATEWAY_AUTH');

export interface GatewayAuth {
  keys: ApiKeyService;
  limiter: RateLimiter;
  mode: 'required' | 'off';
  defaults: { rps: number; burst: number };
}

/** The key a request presents: `x-api-key: rsk_...` or `Authorization: Bearer rsk_...`. */
export function presentedKey(req: Request): string | undefined {
  const h = req.headers['x-api-key'];
  if (typeof h === 'string' && h) return h.trim();
  const m = /^Bearer\s+(rsk_\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export type AuthedRequest = Request & { apiKey?: ApiKeyRecord };

/**
 * API key check for the product routes: 401 without a key (when keys are required) or with an
 * unknown/revoked one, 403 when the key lacks the route's scope (`admin` implies every scope),
 * 429 with Retry-After when its token bucket is empty. Every answer is problem+json.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GATEWAY_AUTH) private readonly auth: GatewayAuth,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.get<ApiKeyScope>(SCOPE, context.getHandler());
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const res = http.getResponse<Response>();
    const token = presentedKey(req);
    if (!token) {
      if (this.auth.mode === 'off') return true;
      res.setHeader('WWW-Authenticate', `Bearer realm="${API_KEY_SCHEME}"`);
      throw new DomainError('api_key_required', 401, 'this route needs an API key: x-api-key: rsk_... (or Authorization: Bearer rsk_...)');
    }
    const key = await this.auth.keys.verify(token);
    if (!key) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${API_KEY_SCHEME}", error="invalid_token"`);
      throw new DomainError('invalid_api_key', 401, 'the API key is unknown or revoked');
    }
    if (scope && !key.scopes.includes(scope) && !key.scopes.includes('admin')) {
      throw new DomainError('insufficient_scope', 403, `the API key lacks the scope '${scope}'`, { required: scope, scopes: key.scopes });
    }
    const rate = key.ratePerSec ?? this.auth.defaults.rps;
    const burst = key.burst ?? this.auth.defaults.burst;
    const d = await this.auth.limiter.take(key.keyId, rate, burst);
    res.setHeader('RateLimit-Limit', String(burst));
    res.setHeader('RateLimit-Remaining', String(d.remaining));
    if (!d.allowed) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))));
      throw new DomainError('rate_limited', 429, `rate limit of key '${key.keyId}' exceeded (${rate}/s, burst ${burst})`, { retryAfterMs: d.retryAfterMs });
    }
    req.apiKey = key;
    return true;
  }
}

/** Marks a product route: API key with `scope`, rate-limited, documented in OpenAPI. */
export function RequireScope(scope: ApiKeyScope): MethodDecorator {
  return applyDecorators(
    SetMetadata(SCOPE, scope),
    UseGuards(ApiKeyGuard),
    ApiSecurity(API_KEY_SCHEME),
    ApiHeader({ name: 'x-api-key', required: false, description: `API key with scope ${scope} (required when GATEWAY_API_KEYS=required)` }),
    ApiResponse({ status: 401, description: 'problem+json `api_key_required` / `invalid_api_key`' }),
    ApiResponse({ status: 403, description: 'problem+json `insufficient_scope`' }),
    ApiResponse({ status: 429, description: 'problem+json `rate_limited` (Retry-After header)' }),
  ) as MethodDecorator;
}

/**
 * Key management: the ADMIN_TOKEN bearer (as every admin route of the suite), or an API key with
 * the `admin` scope in x-api-key.
 */
@Injectable()
export class KeyAdminGuard implements CanActivate {
  constructor(
    @Inject(AdminGuard) private readonly admin: AdminGuard,
    @Inject(GATEWAY_AUTH) private readonly auth: GatewayAuth,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const h = req.headers['x-api-key'];
    if (typeof h === 'string' && h) {
      const key = await this.auth.keys.verify(h.trim());
      if (!key) throw new DomainError('invalid_api_key', 401, 'the API key is unknown or revoked');
      if (!key.scopes.includes('admin')) throw new DomainError('insufficient_scope', 403, "the API key lacks the scope 'admin'", { required: 'admin', scopes: key.scopes });
      return true;
    }
    return this.admin.canActivate(context);
  }
}
