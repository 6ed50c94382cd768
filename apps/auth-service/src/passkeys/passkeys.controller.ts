import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { PasskeyDto, RegisterPasskeyDto, RegistrationOptionsDto } from './dto/passkey.dto';
import type { PasskeyView } from './passkeys.repository';
import { passkeyNotFound, PasskeysService } from './passkeys.service';

@ApiTags('passkeys')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('auth/passkeys')
export class PasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Post('registration/options')
  @ApiOperation({ summary: 'Start registering a passkey: options for navigator.credentials.create' })
  @HttpCode(200)
  @ApiOkResponse({ type: RegistrationOptionsDto, description: 'PublicKeyCredentialCreationOptionsJSON' })
  registrationOptions(
    @CurrentPrincipal() principal: Principal,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeys.registrationOptions(principal.user);
  }

  @Post('registration')
  @ApiOperation({ summary: "Register a passkey from the authenticator's answer" })
  @ApiCreatedResponse({ type: PasskeyDto })
  @ApiErrors('validation_failed', 'invalid_passkey')
  register(
    @CurrentPrincipal() principal: Principal,
    @Body() body: RegisterPasskeyDto,
    @Req() req: FastifyRequest,
  ): Promise<PasskeyView> {
    return this.passkeys.register(principal.userId, body.response, body.name, clientInfo(req));
  }

  @Get()
  @ApiOperation({ summary: "List the caller's passkeys" })
  @ApiOkResponse({ type: [PasskeyDto] })
  list(@CurrentPrincipal() principal: Principal): Promise<PasskeyView[]> {
    return this.passkeys.list(principal.userId);
  }

  // A malformed id cannot name one of the caller's passkeys: same answer as an unknown one.
  @Delete(':id')
  @ApiOperation({ summary: 'Delete one of the caller’s passkeys' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The passkey no longer signs in' })
  @ApiErrors('passkey_not_found')
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe({ exceptionFactory: passkeyNotFound })) id: string,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.passkeys.remove(principal.userId, id, clientInfo(req));
  }
}
