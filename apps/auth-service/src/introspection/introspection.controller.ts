import { Body, Controller, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { ApiErrors } from '../common/api-docs';
import { AnswerFromMemory } from '../http/declared-route-hooks';
import { ClientCredentialsGuard } from './client-credentials.guard';
import { TOKEN_MAX_LENGTH, TOKEN_TYPE_HINTS } from './introspect-request';
import { IntrospectionFromMemory } from './introspection-from-memory';
import { IntrospectionResponseDto } from './dto/introspection-response.dto';
import { IntrospectionResponse, IntrospectionService } from './introspection.service';

class IntrospectDto {
  @ApiProperty({ description: 'The access token to inspect' })
  @IsString()
  @Length(1, TOKEN_MAX_LENGTH)
  token!: string;

  @ApiPropertyOptional({ enum: ['access_token'] })
  @IsOptional()
  @IsIn(TOKEN_TYPE_HINTS)
  token_type_hint?: string;
}

@ApiTags('introspection')
@Controller('auth')
export class IntrospectionController {
  constructor(private readonly introspection: IntrospectionService) {}

  @Post('introspect')
  @ApiOperation({ summary: 'Introspect an access token (RFC 7662)' })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @UseGuards(ClientCredentialsGuard)
  @AnswerFromMemory(IntrospectionFromMemory)
  @ApiBasicAuth()
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: IntrospectDto })
  @ApiOkResponse({
    type: IntrospectionResponseDto,
    description:
      'RFC 7662 answer: {active:true, sub, sid, exp, iat, iss, aud, token_type, roles, amr, auth_time} or {active:false}',
  })
  @ApiErrors('invalid_client', 'validation_failed', 'too_many_requests')
  introspect(@Body() body: IntrospectDto): Promise<IntrospectionResponse> {
    return this.introspection.introspect(body.token);
  }
}
