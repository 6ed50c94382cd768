import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Redirect,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiFoundResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { setRefreshCookie } from '../auth/refresh-cookie';
import { ApiBearer, ApiErrors, ApiRefreshCookie } from '../common/api-docs';
import { OnRouteSend } from '../http/declared-route-hooks';
import { AuthorizeUrlDto, LinkOAuthDto, OAuthAccountDto, OAuthProviderDto } from './dto/oauth.dto';
import { OAuthMetrics } from './oauth.metrics';
import { OAuthAccountView } from './oauth.repository';
import { OAuthOutcome, OAuthService } from './oauth.service';
import { OAuthCallbackGuard } from './passport/oauth-callback.guard';
import { bindBrowser } from './oauth-binding';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { isMfaChallenge } from '../sign-in/mfa-challenge';

@ApiTags('oauth')
@Controller('auth/oauth')
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @Get('providers')
  @ApiOperation({ summary: 'List the configured OAuth providers' })
  @ApiOkResponse({ type: [OAuthProviderDto] })
  providers(): { id: string; name: string }[] {
    return this.oauth.list();
  }

  @Get('accounts')
  @ApiOperation({ summary: 'List the OAuth accounts linked to the caller' })
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiOkResponse({ type: [OAuthAccountDto] })
  accounts(@CurrentPrincipal() principal: Principal): Promise<OAuthAccountView[]> {
    return this.oauth.accounts(principal.userId);
  }

  @Delete('accounts/:provider')
  @ApiOperation({ summary: 'Unlink an OAuth account' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Unlinked' })
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiErrors('oauth_account_not_found', 'last_login_method')
  unlink(
    @CurrentPrincipal() principal: Principal,
    @Param('provider') provider: string,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.oauth.unlink(principal.userId, provider, clientInfo(req));
  }

  @Get(':provider/authorize')
  @ApiOperation({ summary: 'Start an OAuth sign-in (redirect to the provider)' })
  @RateLimit('oauth_authorize_ip')
  @Redirect()
  @ApiQuery({ name: 'redirect_uri', description: 'One of OAUTH_ALLOWED_REDIRECTS, exactly' })
  @ApiFoundResponse({ description: 'To the provider, with state, nonce and PKCE (S256)' })
  @ApiErrors('unknown_provider', 'invalid_redirect_uri', 'oauth_error')
  async authorize(
    @Param('provider') provider: string,
    @Query('redirect_uri') redirectUri: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ url: string; statusCode: number }> {
    const url = await this.oauth.authorizationUrl(provider, redirectUri, this.bind(request, reply));
    reply.header('cache-control', 'no-store');
    return { url, statusCode: 302 };
  }

  @Get(':provider/callback')
  @ApiOperation({ summary: 'Complete an OAuth sign-in or link (provider redirect)' })
  @ApiParam({ name: 'provider', description: 'A configured provider id' })
  @UseGuards(OAuthCallbackGuard)
  @OnRouteSend(OAuthMetrics, (metrics) => metrics.countCallback)
  @Redirect()
  @ApiFoundResponse({
    description:
      'To the redirect_uri given at authorize, with the refresh_token cookie set (sign-in); for an account with TOTP, with ?mfa_token=… and no cookie (then POST /auth/mfa/verify)',
  })
  @ApiRefreshCookie('set')
  @ApiErrors(
    'unknown_provider',
    'invalid_oauth_state',
    'oauth_error',
    'email_taken',
    'account_already_linked',
    'account_disabled',
  )
  async callback(
    @Req() request: FastifyRequest & { user: OAuthOutcome },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ url: string; statusCode: number }> {
    const answer = await this.oauth.finish(request.user, clientInfo(request));
    reply.header('cache-control', 'no-store');
    if (isMfaChallenge(answer)) {
      // No cookie, no session: the frontend completes the sign-in with POST /auth/mfa/verify.
      const url = new URL(request.user.redirectUri);
      url.searchParams.set('mfa_token', answer.mfaToken);
      return { url: url.href, statusCode: 302 };
    }
    if (answer) {
      setRefreshCookie(reply, answer.refreshToken, this.oauth.refreshTtlSeconds, this.oauth.cookieSecure);
    }
    return { url: request.user.redirectUri, statusCode: 302 };
  }

  @Post(':provider/link')
  @ApiOperation({ summary: 'Start linking a provider account to the caller' })
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiOkResponse({ type: AuthorizeUrlDto })
  @ApiErrors('unknown_provider', 'invalid_redirect_uri', 'account_already_linked', 'oauth_error')
  async link(
    @CurrentPrincipal() principal: Principal,
    @Param('provider') provider: string,
    @Body() body: LinkOAuthDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ authorizeUrl: string }> {
    // The binding cookie goes to whoever holds the account's access token, with this answer: an
    // authorizeUrl sent to another browser cannot complete the link there.
    const binding = this.bind(request, reply);
    return {
      authorizeUrl: await this.oauth.authorizationUrl(provider, body.redirect_uri, binding, principal.userId),
    };
  }

  private bind(request: FastifyRequest, reply: FastifyReply): string {
    return bindBrowser(request, reply, {
      secure: this.oauth.cookieSecure,
      maxAgeSeconds: this.oauth.stateTtlSeconds,
    });
  }
}
