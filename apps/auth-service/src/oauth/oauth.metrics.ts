import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import type { FastifyReply } from 'fastify';
import { Counter } from 'prom-client';
import { REFRESH_COOKIE } from '../auth/refresh-cookie';
import type { OnSendHook } from '../http/route-hooks';
import { errorCode, outcome } from '../observability/answer-outcome';
import { OAuthProvidersRegistry } from './providers/oauth-providers.registry';

const KNOWN_ERRORS = Object.fromEntries(
  ['invalid_oauth_state', 'oauth_error', 'email_taken', 'account_already_linked', 'unknown_provider'].map(
    (code) => [code, code],
  ),
);

/**
 * OAuth callbacks by provider and result, counted from their answers by an onSend hook declared on
 * the callback route only (@OnRouteSend on OAuthController.callback). Sign-ins are logins that auth_logins_total (password logins) does not see,
 * and a provider that is misconfigured or unreachable shows here as `oauth_error` before users
 * report it. Providers that are not configured are counted as `unknown`: label values stay bounded.
 */
@Injectable()
export class OAuthMetrics {
  readonly callbacks: Counter<'provider' | 'result'>;

  constructor(
    metrics: MetricsService,
    private readonly providers: OAuthProvidersRegistry,
  ) {
    this.callbacks = new Counter({
      name: `${metrics.options.prefix}oauth_callbacks_total`,
      help: 'OAuth callbacks by provider and result (signed_in, linked, or the error code)',
      labelNames: ['provider', 'result'],
      registers: [metrics.registry],
    });
  }

  readonly countCallback: OnSendHook = (request, reply, payload, done) => {
    const provider = (request.params as { provider?: string }).provider ?? '';
    this.callbacks.inc({
      provider: this.providers.has(provider) ? provider : 'unknown',
      result: callbackResult(reply, payload),
    });
    done(null, payload);
  };
}

function callbackResult(reply: FastifyReply, payload: unknown): string {
  if (reply.statusCode === 302) {
    // A sign-in sets the refresh cookie; completing a link does not.
    const cookies = reply.getHeader('set-cookie');
    const set = Array.isArray(cookies) ? cookies.join(';') : String(cookies ?? '');
    return set.includes(`${REFRESH_COOKIE}=`) ? 'signed_in' : 'linked';
  }
  return outcome(reply.statusCode, errorCode(payload), KNOWN_ERRORS);
}
