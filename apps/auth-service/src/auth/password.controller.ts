import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ChangePasswordDto, EmailDto, ResetPasswordDto } from './dto/credentials.dto';
import { PasswordService } from './password.service';
import { ApiError } from '../common/api-error';
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
  async change(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    // Wrong current passwords are counted per user (like the login lockout): a stolen access token
    // must not allow guessing the password online.
    const limited = this.limits.enabled;
    const refusal = limited
      ? await this.limits.overLimit(PASSWORD_CHANGE_LIMIT, principal.userId)
      : undefined;
    if (refusal) throw refusal;
    try {
      await this.passwords.change(principal.userId, principal.sessionId, body);
    } catch (error) {
      if (limited && error instanceof ApiError && error.code === 'invalid_credentials') {
        throw (await this.limits.hit(PASSWORD_CHANGE_LIMIT, principal.userId)) ?? error;
      }
      throw error;
    }
  }

  @Post('forgot')
  @ApiOperation({ summary: 'Request a password-reset email' })
  @HttpCode(202)
  @RateLimit('forgot_ip', 'forgot_email')
  @ApiAcceptedResponse({ description: 'Always; a reset mail goes out only if the account exists' })
  @ApiErrors('validation_failed', 'too_many_requests')
  forgot(@Body() body: EmailDto): void {
    this.passwords.forgot(body.email);
  }

  @Post('reset')
  @ApiOperation({ summary: 'Reset a password with an emailed token' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Reset; every session of the user revoked' })
  @ApiErrors('validation_failed', 'weak_password', 'invalid_reset_token')
  reset(@Body() body: ResetPasswordDto): Promise<void> {
    return this.passwords.reset(body);
  }
}
