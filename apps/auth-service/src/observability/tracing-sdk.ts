import { FastifyOtelInstrumentation } from '@fastify/otel';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { redactedQuery } from './redacted-query';
import { redisStatement } from './redis-statement';

/**
 * The OpenTelemetry Node SDK with the instrumentations of what this service talks to. Exporter,
 * protocol, endpoint, headers, sampler, propagators and resource come from the standard `OTEL_*`
 * variables (the SDK reads them); W3C `traceparent` is the default propagator.
 */
export function startTracingSdk(env: NodeJS.ProcessEnv): { shutdown(): Promise<void> } {
  const named =
    Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    serviceName: named ? undefined : 'auth-service',
    // Traces only, unless metrics or logs are asked for by name: /metrics is the service's metrics
    // and stdout its logs, and the SDK would otherwise export both to the OTLP endpoint too.
    metricReaders: env.OTEL_METRICS_EXPORTER ? undefined : [],
    logRecordProcessors: env.OTEL_LOGS_EXPORTER ? undefined : [],
    instrumentations: [
      new HttpInstrumentation({
        // Query values may be tokens (email links, OAuth code and state): keys only, as in the log.
        startIncomingSpanHook: (request) => {
          const q = request.url?.indexOf('?') ?? -1;
          return q < 0 || !request.url ? {} : { 'url.query': redactedQuery(request.url.slice(q + 1)) };
        },
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        requestHook: (span, request) => span.setAttribute('url.path', request.url.split('?', 1)[0] ?? ''),
      }),
      // Statements only (Prisma binds every value as a parameter; parameters are not recorded).
      // Queries outside a request (key reloads, the activity flush) would each start a trace.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
      // Outbound HTTP through fetch: the OAuth providers (openid-client) and any webhook.
      new UndiciInstrumentation(),
      // trace_id, span_id and trace_flags on every log line written inside a span.
      new PinoInstrumentation({ disableLogSending: !env.OTEL_LOGS_EXPORTER }),
    ],
  });
  sdk.start();
  return sdk;
}
