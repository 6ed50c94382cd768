import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../sessions/client-info';
import { TokenResponseDto } from '../auth/dto/token-response.dto';
import { setRefreshCookie } from '../auth/refresh-cookie';
import { ApiErrors } from '../common/api-docs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import type { TokenResponse } from '../sessions/sessions.service';
import { AuthenticatePasskeyDto, AuthenticationOptionsDto } from './dto/passkey.dto';
import { PasskeySignInService } from './passkey-sign-in.service';

const SIGN_IN_FAILED = { code: 'invalid_passkey', status: 401 } as const;

@ApiTags('passkeys')
@Controller('auth/passkeys/authentication')
export class PasskeySignInController {
  constructor(
    private readonly signIn: PasskeySignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('options')
  @ApiOperation({ summary: 'Start a passkey sign-in: a challenge for navigator.credentials.get' })
  @HttpCode(200)
  @RateLimit('passkey_ip')
  @ApiOkResponse({ type: AuthenticationOptionsDto })
  @ApiErrors('too_many_requests')
  options(): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    return this.signIn.options();
  }

  @Post()
  @ApiOperation({ summary: 'Sign in with a passkey (both factors at once)' })
  @HttpCode(200)
  @RateLimit('passkey_ip')
  @ApiOkResponse({ type: TokenResponseDto, description: 'Also sets the refresh_token cookie' })
  @ApiErrors('validation_failed', SIGN_IN_FAILED, 'account_disabled', 'too_many_requests')
  async authenticate(
    @Body() body: AuthenticatePasskeyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    const tokens = await this.signIn.signIn(body.challengeId, body.response, clientInfo(req));
    setRefreshCookie(reply, tokens.refreshToken, this.config.jwt.refreshTtl, this.config.http.cookieSecure);
    return tokens;
  }
}
