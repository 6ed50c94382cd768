import { Controller, Get, Headers, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api-error';
import { ApiErrors } from '../common/api-docs';
import { ClientCredentialsGuard } from '../introspection/client-credentials.guard';
import { isCursor } from '../sessions/revocation-log';
import { RevocationStream } from './revocation-stream.service';

const CURSOR_PATTERN = /^\d{1,20}-\d{1,19}$/;

class RevocationsQueryDto {
  @ApiPropertyOptional({
    description:
      'Resume after this event id (as Last-Event-ID does); without it the stream starts with the snapshot',
    example: '1234-56',
  })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'since must be an event id of this stream' })
  since?: string;
}

@ApiTags('introspection')
@Controller('auth')
export class RevocationStreamController {
  constructor(private readonly stream: RevocationStream) {}

  /**
   * The raw response is taken over (reply.hijack): Nest's @Sse cannot send SSE comments (the
   * keep-alive) nor let us see the socket's write buffer, which bounds a slow consumer's memory.
   */
  @Get('revocations')
  @ApiOperation({ summary: 'Revocation stream (Server-Sent Events): snapshot, ready, live revoked events' })
  @UseGuards(ClientCredentialsGuard)
  @ApiBasicAuth()
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (wins over since)',
  })
  @ApiOkResponse({
    description:
      'text/event-stream: `revoked` events `{sid, sub, exp}` (id: a cursor), then `ready`, then live `revoked` events; ' +
      'a comment every 15 s; `dropped` `{reason}` before the server ends a stream (slow_consumer, shutdown, unavailable)',
    // Only the success is an event stream: the errors are the usual JSON.
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          example: 'id: 2417-90\nevent: revoked\ndata: {"sid":"…","sub":"…","exp":1796379311}\n\n',
        },
      },
    },
  })
  @ApiErrors('invalid_client', 'validation_failed', 'too_many_requests')
  async revocations(
    @Query() query: RevocationsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (lastEventId !== undefined && !isCursor(lastEventId)) {
      throw new ApiError('validation_failed', ['Last-Event-ID must be an event id of this stream']);
    }
    // On a reconnect EventSource sends Last-Event-ID with the first URL again: the header is newer.
    const since = lastEventId ?? query.since;
    reply.hijack();
    await this.stream.serve(reply.raw, reply.getHeaders(), since);
  }
}
