import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { DomainError } from './problem';
import { isJsonMediaType, requestHasBody } from './http-edges';
import { checkBodyDeclaresExtras } from './openapi';

/** A documented response: a zod schema of the body, or a fuller description (headers, media type). */
export interface ApiResponseSpec {
  description?: string;
  /** Body schema (output side); omit for an empty body. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** Response headers: name -> schema (required unless `optional`). */
  headers?: Record<string, { schema: z.ZodType; description?: string; optional?: boolean }>;
}

/**
 * One route, declared once: what it validates is what it documents. The schemas are the zod
 * schemas the handler receives parsed values of (`@Body()`, `@Query()`, `@Param()` give the
 * parsed output, defaults applied); the OpenAPI operation is generated from them with
 * `z.toJSONSchema`, with the problem+json responses of every error status.
 */
export interface ApiRouteSpec {
  summary: string;
  description?: string;
  /** Path parameters (a z.object of strings, e.g. with a pattern). */
  params?: z.ZodObject;
  /** Query parameters (use z.coerce / enums for non-strings; unknown ones are ignored). */
  query?: z.ZodObject;
  /**
   * JSON request body. Objects must be strict (`z.strictObject`: unknown fields answer 422) or
   * declare extras (`z.looseObject`, `.catchall()`, `z.record`): checked at decoration time.
   */
  body?: z.ZodType;
  /** Success (and other non-problem) responses by status. */
  responses: Record<number, z.ZodType | ApiResponseSpec>;
  /**
   * problem+json error codes by status that the handler can answer. The platform adds the ones it
   * answers itself: 400 malformed_json, 413, 415, 422 validation_failed, 401 on admin routes.
   */
  errors?: Record<number, readonly string[]>;
}

export const API_ROUTE = Symbol('recsys:api-route');

/** operationId -> spec, for every decorated handler of the process (ids are made unique). */
const routes = new Map<string, ApiRouteSpec>();
const idsByHandler = new WeakMap<object, string>();

export function apiRouteSpecs(): ReadonlyMap<string, ApiRouteSpec> {
  return routes;
}

function uniqueId(base: string, handler: object): string {
  const known = idsByHandler.get(handler);
  if (known) return known;
  let id = base;
  for (let i = 2; routes.has(id); i++) id = `${base}_${i}`;
  idsByHandler.set(handler, id);
  return id;
}

/**
 * Declares, validates and documents a route:
 *
 * ```ts
 * @Post('candidates')
 * @HttpCode(200)
 * @ApiRoute({ summary: '...', body: candidatesRequest, responses: { 200: candidatesResponse }, errors: { 404: ['namespace_not_found'] } })
 * candidates(@Body() body: CandidatesRequest) { ... }
 * ```
 *
 * Requests are validated after guards (admin auth answers 401 first): 415 when the route takes a
 * JSON body and the request carries another media type, 422 `validation_failed` listing every
 * issue with its location (`body`, `query`, `path`).
 */
export function ApiRoute(spec: ApiRouteSpec): MethodDecorator {
  if (spec.body) checkBodyDeclaresExtras(spec.body);
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const id = uniqueId(`${(target as { constructor: { name: string } }).constructor.name}_${String(key)}`, handler);
    routes.set(id, spec);
    return applyDecorators(
      SetMetadata(API_ROUTE, spec),
      ApiOperation({ operationId: id, summary: spec.summary, ...(spec.description ? { description: spec.description } : {}) }),
      UseInterceptors(ApiRouteInterceptor),
    )(target, key, descriptor);
  };
}

export type Issue = { location: 'body' | 'query' | 'path'; path: string; message: string };

type ZodIssueLike = { code: string; path: PropertyKey[]; message: string; errors?: ZodIssueLike[][] };

/**
 * Issues with their location. A union (z.xor / z.union) that no branch matched reports the
 * issues of the branch that came closest (fewest issues) instead of a bare "Invalid input".
 */
export function issuesOf(location: Issue['location'], error: z.ZodError): Issue[] {
  const flat = (issue: ZodIssueLike, prefix: PropertyKey[]): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors?.length) {
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
      if (best.length) return best.flatMap((i) => flat(i, path));
    }
    return [{ location, path: path.map(String).join('.'), message: issue.message }];
  };
  return (error.issues as unknown as ZodIssueLike[]).flatMap((i) => flat(i, []));
}

@Injectable()
export class ApiRouteInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = Reflect.getMetadata(API_ROUTE, context.getHandler()) as ApiRouteSpec | undefined;
    if (spec) validateRequest(spec, context.switchToHttp().getRequest<Request>());
    return next.handle();
  }
}

/** Validates and replaces req.params, req.query and req.body with their parsed values. */
export function validateRequest(spec: ApiRouteSpec, req: Request): void {
  const issues: Issue[] = [];
  if (spec.body && requestHasBody(req) && !isJsonMediaType(req.headers['content-type'])) {
    throw new DomainError('unsupported_media_type', 415, `this route takes application/json, not ${req.headers['content-type'] ?? 'a body without a content type'}`, {
      accepted: ['application/json'],
    });
  }
  if (spec.params) {
    const r = spec.params.safeParse(req.params ?? {});
    if (r.success) req.params = r.data as Request['params'];
    else issues.push(...issuesOf('path', r.error));
  }
  if (spec.query) {
    const r = spec.query.safeParse({ ...(req.query ?? {}) });
    // Express 5 exposes req.query as a getter: shadow it with the parsed value.
    if (r.success) Object.defineProperty(req, 'query', { value: r.data, writable: true, configurable: true, enumerable: true });
    else issues.push(...issuesOf('query', r.error));
  }
  if (spec.body) {
    const r = spec.body.safeParse(req.body);
    if (r.success) req.body = r.data;
    else issues.push(...issuesOf('body', r.error));
  }
  if (issues.length) {
    const where = [...new Set(issues.map((i) => i.location))].join(', ');
    throw new DomainError('validation_failed', 422, `request ${where} does not match the schema`, { errors: issues });
  }
}
