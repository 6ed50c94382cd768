import { Body, Controller, Delete, Get, Header, HttpCode, Req, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { AccountDeletion } from '../account-data/account-deletion.service';
import { AccountExport, AccountExporter } from '../account-data/account-export.service';
import { AccountExportDto } from '../account-data/dto/account-export.dto';
import { DeleteAccountDto } from '../account-data/dto/delete-account.dto';
import { clientInfo } from '../sessions/client-info';
import { invalidToken } from '../common/api-error';
import { ApiBearer, ApiErrors } from '../common/api-docs';

/** The caller's rights over their data: erasure and access (GDPR). */
@ApiTags('users')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('users/me')
export class AccountDataController {
  constructor(
    private readonly deletion: AccountDeletion,
    private readonly exporter: AccountExporter,
  ) {}

  @Delete()
  @ApiOperation({ summary: "Delete the caller's account and everything held about it" })
  @HttpCode(204)
  @ApiNoContentResponse({
    description:
      'Deleted; every session revoked on every instance, its cache entries gone; the email can register again',
  })
  @ApiErrors('validation_failed', 'invalid_credentials', 'too_many_requests')
  deleteMe(
    @CurrentPrincipal() principal: Principal,
    @Body() body: DeleteAccountDto,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.deletion.deleteOwn(
      principal.userId,
      { password: body?.password, code: body?.code },
      {
        sessionId: principal.sessionId,
        client: clientInfo(req),
      },
    );
  }

  @Get('export')
  @ApiOperation({ summary: 'Everything held about the caller' })
  @Header('Content-Disposition', 'attachment; filename="account-export.json"')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: AccountExportDto, description: 'No secret: no hash, no token' })
  async export(@CurrentPrincipal() principal: Principal): Promise<AccountExport> {
    const data = await this.exporter.export(principal.userId);
    if (!data) throw invalidToken();
    return data;
  }
}
