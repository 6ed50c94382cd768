import 'reflect-metadata';
import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConsumerConfig } from './consumer-config';
import { ConsumerModule } from './consumer.module';

/** The example consumer, ready to listen: used by main.ts and by the end-to-end test. */
export async function createConsumerApp(
  config: ConsumerConfig,
  options: { logger?: LogLevel[] | false } = {},
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ConsumerModule.forRoot(config),
    new FastifyAdapter(),
    {
      logger: options.logger ?? ['fatal', 'error', 'warn', 'log'],
      abortOnError: false,
    },
  );
  app.enableShutdownHooks();
  return app;
}
