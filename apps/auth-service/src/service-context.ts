import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadConfig } from './config/app-config';

/**
 * Runs `work` with the service's modules, configured from the environment like the service, but
 * as a one-shot command: no HTTP listener, no warming run, no consistency sampling.
 */
export async function withServiceContext<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfig({
    ...process.env,
    CACHE_WARM_ON_START: 'false',
    CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS: '0',
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: ['fatal', 'error', 'warn'],
    abortOnError: false,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
