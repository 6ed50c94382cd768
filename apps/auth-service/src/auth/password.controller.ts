import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ChangePasswordDto, EmailDto, ResetPasswordDto } from './dto/credentials.dto';
import { PasswordService } from './password.service';

@ApiTags('password')
@Controller('auth/password')
export class PasswordController {
  constructor(private readonly passwords: PasswordService) {}

  @Post('change')
  @ApiOperation({ summary: "Change the caller's password" })
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiNoContentResponse({ description: 'Changed; every other session revoked' })
  @ApiErrors('validation_failed', 'weak_password', 'invalid_credentials')
  change(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    return this.passwords.change(principal.userId, principal.sessionId, body);
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
