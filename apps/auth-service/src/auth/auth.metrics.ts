import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { Counter } from 'prom-client';
import type { OnSendHook } from '../http/route-hooks';
import { errorCode, outcome } from '../observability/answer-outcome';

/**
 * Logins and refreshes by result, counted from their answers by onSend hooks declared on those two
 * routes only (@OnRouteSend on AuthController.login and .refresh). Every label value is bounded.
 */
@Injectable()
export class AuthMetrics {
  readonly logins: Counter<'result'>;
  readonly refreshes: Counter<'result'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.logins = new Counter({
      name: 'auth_logins_total',
      help: 'Password logins by result (success, invalid_credentials, rate_limited, rejected, error)',
      labelNames: ['result'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'auth_token_refreshes_total',
      help: 'Refresh-token rotations by result (success, reuse_detected, invalid, rate_limited, rejected, error)',
      labelNames: ['result'],
      registers,
    });
  }

  readonly countLogin: OnSendHook = (_request, reply, payload, done) => {
    this.logins.inc({
      result: outcome(reply.statusCode, errorCode(payload), { invalid_credentials: 'invalid_credentials' }),
    });
    done(null, payload);
  };

  readonly countRefresh: OnSendHook = (_request, reply, payload, done) => {
    this.refreshes.inc({
      result: outcome(reply.statusCode, errorCode(payload), {
        refresh_token_reused: 'reuse_detected',
        invalid_refresh_token: 'invalid',
      }),
    });
    done(null, payload);
  };
}
