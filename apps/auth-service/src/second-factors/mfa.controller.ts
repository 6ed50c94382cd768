import { Body, Controller, Delete, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { ApiError } from '../common/api-error';
import type { RequestLimit } from '../rate-limit/rate-limit.definitions';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { MfaCodeDto, MfaStatusDto, RecoveryCodesDto, TotpSetupDto } from './dto/mfa.dto';
import { MfaActor, MfaService, MfaStatus } from './mfa.service';

const MFA_CODE_LIMIT = 'mfa_code_user' satisfies RequestLimit;

@ApiTags('mfa')
@Controller('auth/mfa')
@UseGuards(BearerAuthGuard)
@ApiBearer()
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly limits: RateLimitService,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's second factors" })
  @ApiOkResponse({ type: MfaStatusDto })
  status(@CurrentPrincipal() principal: Principal): Promise<MfaStatus> {
    return this.mfa.status(principal.userId);
  }

  @Post('totp/setup')
  @ApiOperation({ summary: 'Start a TOTP setup (a new pending secret)' })
  @HttpCode(200)
  @ApiOkResponse({ type: TotpSetupDto })
  @ApiErrors('mfa_already_enabled')
  setup(@CurrentPrincipal() principal: Principal): Promise<{ secret: string; otpauthUrl: string }> {
    return this.mfa.setup(principal.user);
  }

  @Post('totp/confirm')
  @ApiOperation({ summary: 'Confirm TOTP with a first code; answers the recovery codes' })
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiErrors(
    'validation_failed',
    'invalid_mfa_code',
    'mfa_already_enabled',
    'mfa_setup_not_found',
    'too_many_requests',
  )
  confirm(
    @CurrentPrincipal() principal: Principal,
    @Body() body: MfaCodeDto,
    @Req() request: FastifyRequest,
  ): Promise<{ recoveryCodes: string[] }> {
    return this.countingWrongCodes(principal, () => this.mfa.confirm(actor(principal, request), body.code));
  }

  @Delete('totp')
  @ApiOperation({ summary: 'Disable TOTP (with a TOTP or a recovery code)' })
  @HttpCode(204)
  @ApiBody({ type: MfaCodeDto })
  @ApiNoContentResponse({ description: 'TOTP and the recovery codes removed' })
  @ApiErrors('validation_failed', 'invalid_mfa_code', 'mfa_not_enabled', 'too_many_requests')
  disable(
    @CurrentPrincipal() principal: Principal,
    @Body() body: MfaCodeDto,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.countingWrongCodes(principal, () => this.mfa.disable(actor(principal, request), body.code));
  }

  @Post('recovery-codes')
  @ApiOperation({ summary: 'Regenerate the recovery codes (with a TOTP code)' })
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiErrors('validation_failed', 'invalid_mfa_code', 'mfa_not_enabled', 'too_many_requests')
  regenerate(
    @CurrentPrincipal() principal: Principal,
    @Body() body: MfaCodeDto,
    @Req() request: FastifyRequest,
  ): Promise<{ recoveryCodes: string[] }> {
    return this.countingWrongCodes(principal, () =>
      this.mfa.regenerateRecoveryCodes(actor(principal, request), body.code),
    );
  }

  /**
   * Wrong codes are counted per user (RATE_LIMIT_MFA_CODE_FAILURES): a stolen access token must
   * not allow guessing a code online to turn the factor off. Over the limit: 429, even with the right code.
   */
  private async countingWrongCodes<T>(principal: Principal, work: () => Promise<T>): Promise<T> {
    const limited = this.limits.enabled;
    const refusal = limited ? await this.limits.overLimit(MFA_CODE_LIMIT, principal.userId) : undefined;
    if (refusal) throw refusal;
    try {
      return await work();
    } catch (error) {
      if (limited && error instanceof ApiError && error.code === 'invalid_mfa_code') {
        throw (await this.limits.hit(MFA_CODE_LIMIT, principal.userId)) ?? error;
      }
      throw error;
    }
  }
}

const actor = (principal: Principal, request: FastifyRequest): MfaActor => ({
  userId: principal.userId,
  sessionId: principal.sessionId,
  client: clientInfo(request),
});
