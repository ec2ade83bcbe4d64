import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { issuesOf } from './api-route';
import { DomainError } from './problem';

/**
 * Validates a request body against a zod schema; every issue is listed in the 422 problem.
 * Prefer @ApiRoute({ body }) (OPENAPI.md), which also documents the route completely.
 */
export class ZodBody<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}
  transform(value: unknown): z.output<S> {
    const r = this.schema.safeParse(value);
    if (r.success) return r.data;
    throw new DomainError('validation_failed', 422, 'request body does not match the schema', { errors: issuesOf('body', r.error) });
  }
}
