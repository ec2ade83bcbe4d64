import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { APP_CONTEXT, type AppContext } from './app-context';
import { DomainError } from './problem';

export const ADMIN_AUTH_SCHEME = 'admin';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>` on routes that change what the suite serves
 * (model registry, index rebuilds). Without ADMIN_TOKEN the routes are open: the one-command
 * embedded start needs no secret, and the suite warns at boot (see adminAuthWarning).
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(APP_CONTEXT) ctx: AppContext) {
    if (ctx.config.ADMIN_TOKEN) this.expected = digest(ctx.config.ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<Request>().headers.authorization;
    const res = http.getResponse<Response>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${ADMIN_AUTH_SCHEME}"`);
      throw new DomainError('unauthorized', 401, 'this admin route needs Authorization: Bearer <ADMIN_TOKEN>');
    }
    // Digests have equal length, so the comparison time does not depend on the token given.
    if (!timingSafeEqual(digest(match[1]!), this.expected)) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${ADMIN_AUTH_SCHEME}", error="invalid_token"`);
      throw new DomainError('invalid_token', 401, 'the admin bearer token is not the configured ADMIN_TOKEN');
    }
    return true;
  }
}

/** Marks a route as an admin route: bearer token when ADMIN_TOKEN is set, documented in OpenAPI. */
export function AdminOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AdminGuard),
    ApiBearerAuth(ADMIN_AUTH_SCHEME),
    ApiResponse({ status: 401, description: 'problem+json `unauthorized` / `invalid_token` (only when ADMIN_TOKEN is set)' }),
  );
}

/** The boot-time warning for open admin routes, or undefined when they are protected. */
export function adminAuthWarning(config: { ADMIN_TOKEN?: string }): string | undefined {
  return config.ADMIN_TOKEN ? undefined : 'ADMIN_TOKEN is not set: admin routes (model registry, index rebuilds) accept unauthenticated requests';
}
