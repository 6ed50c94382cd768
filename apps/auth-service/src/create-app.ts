import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { sharedJson } from '@app/cache';
import { MetricsService } from '@app/metrics';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { API_PREFIX } from './http/api-prefix';
import { accessLogger, answerRecorder, requestIdFor } from './observability/access-log';
import { createRootLogger, PinoNestLogger, stdoutDestination } from './observability/logging';
import type { DestinationStream } from 'pino';
import { registerInputLimits } from './bootstrap/input-limits.hook';
import { registerMediaTypeCheck } from './bootstrap/media-type.hook';
import { registerExampleFrontend } from './bootstrap/example-frontend';
import { setupOpenApi } from './bootstrap/openapi';
import { clientErrorHandler, MAX_HEADER_BYTES, registerSecurityHeaders } from './bootstrap/security';

/** Auth bodies are tiny; anything larger is refused before it is parsed (413). */
const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Builds the whole service, ready to listen: used by main.ts and by the end-to-end tests alike.
 * `exampleFrontendDir`: the built example frontend, served when FRONTEND_URL is unset (main.ts
 * passes dist/example-frontend; without it, as in most tests, the service serves the API only).
 */
export async function createApp(
  config: AppConfig,
  options: { logDestination?: DestinationStream; exampleFrontendDir?: string } = {},
): Promise<NestFastifyApplication> {
  const logDestination = options.logDestination ?? stdoutDestination();
  const logger = createRootLogger(config.logLevel, logDestination);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // request.ip: the socket's address, or X-Forwarded-For's from the proxies TRUST_PROXY names.
    trustProxy: trustProxyOption(config.http.trustProxy),
    return503OnClosing: true,
    // Larger request lines + headers are refused with 431 by Node's parser (see ./security.ts).
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    clientErrorHandler,
    genReqId: requestIdFor,
    // No Nest middleware here (hooks instead): without middie no request pays for its matcher.
    skipMiddie: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Cached values (the /auth/me user) are serialized once, not on every answer.
  fastify.setReplySerializer(sharedJson);

  registerMediaTypeCheck(fastify);
  registerInputLimits(fastify);

  fastify.addHook(
    'onResponse',
    answerRecorder(app.get(MetricsService), accessLogger(config.logLevel, logDestination)),
  );

  registerSecurityHeaders(app);
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({ origin: config.http.corsOrigins, credentials: true });
  }
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/{*path}', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
      { path: '.well-known/{*path}', method: RequestMethod.ALL },
    ],
  });
  setupOpenApi(app, config);
  if (config.http.serveExampleFrontend && options.exampleFrontendDir) {
    await registerExampleFrontend(app, options.exampleFrontendDir, logger);
  }
  // Ends with process.exit, not a re-sent signal, so that `exit` flushes the asynchronous log.
  app.enableShutdownHooks([], { useProcessExit: true });
  if (config.database.url && !config.redis.url) {
    // A shared database suggests several instances; without Redis their caches cannot agree.
    logger.warn(
      'REDIS_URL is unset: this instance caches alone. Run several instances on one DATABASE_URL only with ' +
        'a shared Redis: without it a cached user, profile or role change reaches the others only after ' +
        'their L1 entries expire (up to 60 s); revocations still reach them through PostgreSQL within 1 s.',
    );
  }
  return app;
}

/** TRUST_PROXY as Fastify takes it; a hop count as the function Fastify makes of a number itself. */
function trustProxyOption(
  trust: boolean | number | string[],
): boolean | string[] | ((ip: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_ip, hop) => hop < trust : trust;
}
