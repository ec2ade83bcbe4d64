import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { APP_CONTEXT, ZodBody, type AppContext } from '@recsys/platform';
import { TOPICS } from '@recsys/contracts';
import { RequireScope, type AuthedRequest } from '../auth/api-key.guard';
import { asyncApiDocument } from '../docs/asyncapi';
import { FeedService } from '../feed/feed.service';
import { collectRequest, EventCollector, validateCollected } from './collector';

const collectRequestJsonSchema = z.toJSONSchema(collectRequest, { io: 'input', unrepresentable: 'any' }) as object;
const collectResponseJsonSchema = z.toJSONSchema(
  z.object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    results: z.array(z.object({ eventId: z.string(), topic: z.string(), status: z.enum(['accepted', 'duplicate']) })),
  }),
) as object;

@ApiTags('events')
@Controller()
export class EventsController {
  private asyncApi?: object;

  constructor(
    @Inject(EventCollector) private readonly collector: EventCollector,
    @Inject(FeedService) private readonly feed: FeedService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}

  @Post('v1/events')
  @HttpCode(202)
  @RequireScope('events:write')
  @ApiOperation({
    summary: 'Collect one event or a batch of up to 500 ({events: [...]}) into feed.feedback, user.behaviors or ads.events',
    description:
      "Each event names its `topic` and carries the fields of that topic's schema (see /docs/events); `key`, `timestamp` and `schemaVersion` may be left out. " +
      'Unknown fields are rejected (422, every issue listed by index; a batch is all-or-nothing). Idempotent by eventId: a repeated event is answered `duplicate` and not written again.',
  })
  @ApiBody({ schema: collectRequestJsonSchema })
  @ApiAcceptedResponse({ schema: collectResponseJsonSchema })
  async collect(@Body(new ZodBody(collectRequest)) body: z.output<typeof collectRequest>, @Req() _req: AuthedRequest) {
    const events = validateCollected(body);
    const result = await this.collector.collect(events);
    // Clicks and views the gateway hears of count for its popular items and stay out of the next fetches.
    const fresh = new Set(result.results.filter((r) => r.status === 'accepted').map((r) => `${r.topic}:${r.eventId}`));
    await Promise.all(
      events
        .filter((e) => fresh.has(`${e.topic}:${e.event.eventId}`))
        .map((e) => {
          if (e.topic === TOPICS.feedFeedback || e.topic === TOPICS.userBehaviors) {
            const ev = e.event as { userId: string; itemId: string; type: string };
            if (['click', 'hide', 'view', 'dislike'].includes(ev.type)) return this.feed.recordInteraction(ev.userId, ev.itemId, ev.type);
          }
          return undefined;
        }),
    );
    return result;
  }

  @Get('docs/events')
  @ApiOperation({ summary: 'AsyncAPI 3.0 document of the Kafka topics, generated from the libs/contracts zod schemas' })
  @ApiOkResponse({ description: 'AsyncAPI 3.0 (JSON)' })
  asyncapi() {
    this.asyncApi ??= asyncApiDocument({ kafkaBrokers: this.ctx.config.KAFKA_BROKERS, topicPrefix: this.ctx.config.KAFKA_TOPIC_PREFIX });
    return this.asyncApi;
  }
}
