import { Controller, Get } from '@nestjs/common';
import {
  AuthClient,
  CurrentPrincipal,
  Principal,
  Public,
  RequireRoles,
  UseAuthMode,
} from '@auth-service/auth-client';

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
  constructor(private readonly auth: AuthClient) {}

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

  /**
   * Signature and claims locally, plus the revoked sessions the auth service pushes: no call per
   * request, a revoked session refused within a second. While the stream is down longer than
   * AUTH_PUSH_MAX_STALE_MS, checked by introspection instead (`mode: strict` below) or 503.
   */
  @UseAuthMode('push')
  @Get('push')
  push(@CurrentPrincipal() principal: Principal) {
    return describe(principal);
  }

  /** The client's counters: JWKS, introspection, and the revocation stream's state (for a dashboard). */
  @Public()
  @Get('auth-stats')
  stats() {
    return this.auth.stats();
  }

  /** Only for tokens carrying the `admin` role (403 `forbidden` otherwise). */
  @RequireRoles('admin')
  @Get('admin')
  admin(@CurrentPrincipal() principal: Principal) {
    return describe(principal);
  }
}
