import { Controller, Get } from '@nestjs/common';
import { CurrentPrincipal, Principal, Public, RequireRoles, UseAuthMode } from '@app/auth-client';

/** What a caller sees of itself: enough to show which checks ran. */
function describe(principal: Principal) {
  return {
    userId: principal.userId,
    sessionId: principal.sessionId,
    roles: principal.roles,
    mode: principal.mode,
  };
}

/** Every route is guarded (the module sets `guardAllRoutes`) unless marked `@Public()`. */
@Controller()
export class ConsumerController {
  /** No token needed. */
  @Public()
  @Get('public')
  public() {
    return { ok: true };
  }

  /** The default mode, `local`: signature and claims only, no call to the auth service. */
  @Get('local')
  local(@CurrentPrincipal() principal: Principal) {
    return describe(principal);
  }

  /** Also asks the auth service whether the token was revoked (answer cached a few seconds). */
  @UseAuthMode('strict')
  @Get('strict')
  strict(@CurrentPrincipal() principal: Principal) {
    return describe(principal);
  }

  /** Only for tokens carrying the `admin` role (403 `forbidden` otherwise). */
  @RequireRoles('admin')
  @Get('admin')
  admin(@CurrentPrincipal() principal: Principal) {
    return describe(principal);
  }
}
