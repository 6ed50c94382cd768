import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ApiBearer, ApiErrors, ApiRefreshCookie, ApiRefreshCookieAuth } from '../common/api-docs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TokenResponse } from '../sessions/sessions.service';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { PublicUserDto } from '../users/dto/public-user.dto';
import { PublicUser } from '../users/public-user';
import { AnswerFromMemory, OnRouteSend } from '../http/declared-route-hooks';
import { AuthMetrics } from './auth.metrics';
import { AuthService } from './auth.service';
import { clientInfo } from '../sessions/client-info';
import { LoginDto, RefreshDto, RegisterDto } from './dto/credentials.dto';
import { MeFromMemory } from './me-from-memory';
import { TokenResponseDto } from './dto/token-response.dto';
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refresh-cookie';
import { RefreshOriginGuard } from './refresh-origin.guard';
import { isMfaChallenge } from '../sign-in/mfa-challenge';
import { MfaChallengeDto } from './dto/mfa-verify.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register')
  @ApiOperation({ summary: 'Register with email and password' })
  @RateLimit('register_ip')
  @ApiCreatedResponse({ type: TokenResponseDto })
  @ApiErrors('validation_failed', 'weak_password', 'email_taken', 'too_many_requests')
  async register(
    @Body() body: RegisterDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.withCookie(reply, await this.auth.register(body, clientInfo(req)));
  }

  @Post('login')
  @ApiOperation({ summary: 'Log in with email and password' })
  @HttpCode(200)
  @RateLimit('login_ip', 'login_lockout')
  @OnRouteSend(AuthMetrics, (metrics) => metrics.countLogin)
  @ApiOkResponse({
    description:
      'The token response; for an account with TOTP, the MFA challenge instead (no tokens, no cookie)',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  // The token response sets the refresh cookie; the MFA challenge does not (see the description).
  @ApiRefreshCookie('set')
  @ApiExtraModels(TokenResponseDto, MfaChallengeDto)
  @ApiErrors('validation_failed', 'invalid_credentials', 'account_disabled', 'too_many_requests')
  async login(
    @Body() body: LoginDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const answer = await this.auth.login(body, clientInfo(req));
    return isMfaChallenge(answer) ? answer : this.withCookie(reply, answer);
  }

  @Post('refresh')
  @ApiOperation({ summary: 'Exchange a refresh token for new tokens (rotation)' })
  @HttpCode(200)
  @UseGuards(RefreshOriginGuard)
  @OnRouteSend(AuthMetrics, (metrics) => metrics.countRefresh)
  @ApiOkResponse({
    type: TokenResponseDto,
    description: 'A NEW refresh token; the presented one stops working',
  })
  @ApiRefreshCookieAuth()
  @ApiErrors('invalid_refresh_token', 'refresh_token_reused', 'account_disabled', 'forbidden')
  async refresh(
    @Body() body: RefreshDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.withCookie(
      reply,
      await this.auth.refresh(body.refreshToken ?? readRefreshCookie(req), clientInfo(req)),
    );
  }

  @Post('logout')
  @ApiOperation({ summary: 'Log out: revoke this session' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked on every instance; the refresh cookie is cleared' })
  @ApiRefreshCookie('cleared')
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logout(principal, clientInfo(req));
    clearRefreshCookie(reply, this.config.http.cookieSecure);
  }

  @Post('logout-all')
  @ApiOperation({ summary: 'Log out everywhere: revoke every session of the user' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every session revoked; the refresh cookie is cleared' })
  @ApiRefreshCookie('cleared')
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  async logoutAll(
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logoutAll(principal, clientInfo(req));
    clearRefreshCookie(reply, this.config.http.cookieSecure);
  }

  @Get('me')
  @ApiOperation({ summary: "The caller's user" })
  @UseGuards(BearerAuthGuard)
  @AnswerFromMemory(MeFromMemory)
  @ApiBearer()
  @ApiOkResponse({ type: PublicUserDto })
  me(@CurrentPrincipal() principal: Principal): PublicUser {
    return principal.user;
  }

  private withCookie(reply: FastifyReply, response: TokenResponse): TokenResponse {
    setRefreshCookie(
      reply,
      response.refreshToken,
      this.auth.refreshTtlSeconds,
      this.config.http.cookieSecure,
    );
    return response;
  }
}
