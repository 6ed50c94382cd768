import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { TokenDto } from './dto/credentials.dto';
import { EmailVerificationService } from './email-verification.service';

@ApiTags('email')
@Controller('auth/email')
export class EmailController {
  constructor(private readonly verification: EmailVerificationService) {}

  @Post('verify')
  @ApiOperation({ summary: 'Verify an email address with an emailed token' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'emailVerified is now true' })
  @ApiErrors('validation_failed', 'invalid_verification_token')
  verify(@Body() body: TokenDto, @Req() req: FastifyRequest): Promise<void> {
    return this.verification.verify(body.token, clientInfo(req));
  }

  @Post('resend')
  @ApiOperation({ summary: 'Send the verification email again' })
  @HttpCode(202)
  @RateLimit('resend_ip')
  @UseGuards(BearerAuthGuard)
  @ApiBearer()
  @ApiAcceptedResponse({ description: 'A new verification mail is on its way (none if already verified)' })
  @ApiErrors('too_many_requests')
  resend(@CurrentPrincipal() principal: Principal): Promise<void> {
    return this.verification.resend(principal.userId);
  }
}
