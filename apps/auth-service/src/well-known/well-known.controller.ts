import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CacheResponse } from '@app/cache';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { apiPath } from '../http/api-prefix';
import { SigningKeysService, SUPPORTED_ALGORITHMS } from '../tokens/signing-keys.service';
import { JwksDto, OpenIdConfigurationDto } from './dto/well-known.dto';

@ApiTags('discovery')
@Controller('.well-known')
export class WellKnownController {
  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('jwks.json')
  @ApiOperation({ summary: 'Public keys of the access tokens (JWKS)' })
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({
    type: JwksDto,
    description: 'The active public signing key, and retired ones while tokens they signed can be valid',
  })
  jwks() {
    return this.keys.jwks();
  }

  @Get('openid-configuration')
  @ApiOperation({ summary: 'Discovery document' })
  @Header('Cache-Control', 'public, max-age=3600')
  @CacheResponse({ ttlSeconds: 3600, perCaller: false })
  @ApiOkResponse({ type: OpenIdConfigurationDto })
  openidConfiguration() {
    const base = this.config.http.appUrl;
    return {
      issuer: this.config.jwt.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      introspection_endpoint: base + apiPath('auth/introspect'),
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      token_endpoint: base + apiPath('auth/login'),
      userinfo_endpoint: base + apiPath('auth/me'),
      revocation_endpoint: base + apiPath('auth/logout'),
      response_types_supported: ['code'],
      grant_types_supported: ['password', 'refresh_token', 'authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...SUPPORTED_ALGORITHMS],
      access_token_signing_alg_values_supported: [...SUPPORTED_ALGORITHMS],
      claims_supported: ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'jti', 'roles'],
    };
  }
}
