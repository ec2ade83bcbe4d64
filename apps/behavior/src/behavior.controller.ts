import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DomainError, ZodBody } from '@recsys/platform';
import { interestRequest, InterestRequest, interestRequestJsonSchema } from './api/dto';
import { BehaviorService } from './behavior.service';

@ApiTags('behavior')
@Controller('v1/users')
export class BehaviorController {
  constructor(@Inject(BehaviorService) private readonly behavior: BehaviorService) {}

  @Get(':id/history')
  @ApiOperation({ summary: "The user's behaviour history, newest first" })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 10000 } })
  history(@Param('id') id: string, @Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new DomainError('validation_failed', 422, 'limit must be an integer in 1..10000');
    return this.behavior.history(id, n);
  }

  @Post(':id/interest')
  @HttpCode(200)
  @ApiOperation({ summary: 'SDIM interest vectors of the user for candidate items or vectors' })
  @ApiBody({ schema: interestRequestJsonSchema as object })
  interest(@Param('id') id: string, @Body(new ZodBody(interestRequest)) body: InterestRequest) {
    return this.behavior.interest(id, body);
  }

  @Get(':id/embedding')
  @ApiOperation({ summary: "The user's embedding for retrieval (recency-weighted mean of behaviour embeddings)" })
  embedding(@Param('id') id: string) {
    return this.behavior.embedding(id);
  }
}
