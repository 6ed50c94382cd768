import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ChangePasswordDto, EmailDto, ResetPasswordDto } from './dto/credentials.dto';
import { clientInfo } from '../sessions/client-info';
import { PasswordService } from './password.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { RequestLimit } from '../rate-limit/rate-limit.definitions';

const PASSWORD_CHANGE_LIMIT = 'password_change_user' satisfies RequestLimit;

@ApiTags('password')
@Controller('auth/password')
export class PasswordController {
  constructor(
    private readonly passwords: PasswordService,
    private readonly limits: RateLimitService,
  ) {}

  @Post('change')
  @ApiOperation({ summary: "Change the caller's password" })
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiNoContentResponse({ description: 'Changed; every other session revoked' })
  @ApiErrors('validation_failed', 'weak_password', 'invalid_credentials', 'too_many_requests')
  change(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangePasswordDto,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.limits.countingWrongAnswers(PASSWORD_CHANGE_LIMIT, principal.userId, () =>
      this.passwords.change(principal.userId, principal.sessionId, body, clientInfo(req)),
    );
  }

  @Post('forgot')
  @ApiOperation({ summary: 'Request a password-reset email' })
  @HttpCode(202)
  @RateLimit('forgot_ip', 'forgot_email')
  @ApiAcceptedResponse({ description: 'Always; a reset mail goes out only if the account exists' })
  @ApiErrors('validation_failed', 'too_many_requests')
  forgot(@Body() body: EmailDto, @Req() req: FastifyRequest): void {
    this.passwords.forgot(body.email, clientInfo(req));
  }

  @Post('reset')
  @ApiOperation({ summary: 'Reset a password with an emailed token' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Reset; every session of the user revoked' })
  @ApiErrors('validation_failed', 'weak_password', 'invalid_reset_token')
  reset(@Body() body: ResetPasswordDto, @Req() req: FastifyRequest): Promise<void> {
    return this.passwords.reset(body, clientInfo(req));
  }
}
