import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenResponseDto } from './dto/token-response.dto';
import { clientInfo } from '../sessions/client-info';
import { setRefreshCookie } from './refresh-cookie';
import { ApiErrors } from '../common/api-docs';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { TokenResponse } from '../sessions/sessions.service';
import { MfaChallengeService } from '../sign-in/mfa-challenge.service';
import { MfaVerifyDto } from './dto/mfa-verify.dto';

@ApiTags('mfa')
@Controller('auth/mfa')
export class MfaVerifyController {
  constructor(
    private readonly challenges: MfaChallengeService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('verify')
  @ApiOperation({ summary: 'Complete a login challenge with a TOTP or recovery code' })
  @HttpCode(200)
  @RateLimit('mfa_verify_ip')
  @ApiOkResponse({ type: TokenResponseDto, description: 'amr holds pwd (or fed), otp, mfa' })
  @ApiErrors(
    'validation_failed',
    { code: 'invalid_mfa_code', status: 401 },
    'invalid_mfa_token',
    'account_disabled',
    'too_many_requests',
  )
  async verify(
    @Body() body: MfaVerifyDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    if (body.code !== undefined && body.recoveryCode !== undefined) {
      throw new ApiError('validation_failed', ['give either code or recoveryCode, not both']);
    }
    const proof = body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode ?? '' };
    const tokens = await this.challenges.verify(body.mfaToken, proof, clientInfo(request));
    setRefreshCookie(reply, tokens.refreshToken, this.config.jwt.refreshTtl, this.config.http.cookieSecure);
    return tokens;
  }
}
