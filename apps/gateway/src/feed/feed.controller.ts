import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '@recsys/platform';
import { RequireScope } from '../auth/api-key.guard';
import { FeedService } from './feed.service';
import { feedResponseJsonSchema } from './feed.schema';

const id = z.string().min(1).max(200);
export const feedQuery = z
  .object({
    userId: id,
    surface: z.string().min(1).max(100).default('home'),
    domain: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** Comma-separated item ids to leave out of this fetch. */
    exclude: z
      .string()
      .max(20_000)
      .optional()
      .transform((s) =>
        s
          ? s
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean)
          : [],
      ),
  })
  .strict();

@ApiTags('feed')
@Controller('v1')
export class FeedController {
  constructor(
    @Inject(FeedService) private readonly feedService: FeedService,
    @Inject('GATEWAY_DEFAULT_DOMAIN') private readonly defaultDomain: string,
  ) {}

  @Get('feed')
  @RequireScope('feed:read')
  @ApiOperation({
    summary: 'A feed page for a user on a surface: assignment -> retrieval -> ranking -> slate, with ads from the ad-load decision and the auction',
    description:
      'Always 200 when the gateway itself is up: a stage that is late, down or open-circuited takes its fallback and is listed in `degraded` ' +
      '(retrieval -> popular items, ranking -> retrieval scores, slates -> ranked order, adload/ads -> no ads); `coverage` is the fraction of the plan served. ' +
      'Every item carries a signed tracking token. The fetch is recorded on feed.impressions.',
  })
  @ApiQuery({ name: 'userId', required: true, schema: { type: 'string' } })
  @ApiQuery({ name: 'surface', required: false, schema: { type: 'string', default: 'home' } })
  @ApiQuery({ name: 'domain', required: false, schema: { type: 'string' }, description: 'ranking domain (default GATEWAY_DEFAULT_DOMAIN)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiQuery({ name: 'exclude', required: false, schema: { type: 'string' }, description: 'comma-separated item ids to leave out' })
  @ApiOkResponse({ schema: feedResponseJsonSchema })
  async feed(@Query() query: Record<string, unknown>) {
    const r = feedQuery.safeParse(query);
    if (!r.success) {
      throw new DomainError('validation_failed', 422, 'query does not match the schema', {
        errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      });
    }
    return this.feedService.feed({ ...r.data, domain: r.data.domain ?? this.defaultDomain });
  }
}
