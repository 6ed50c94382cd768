// First, for its effect: .env and X_FILE resolved into process.env before any module reads it.
import './config/environment.boot';
// Second: tracing, when configured, patches modules as they are required (see instrumentation.ts).
import './instrumentation';
import { Logger } from '@nestjs/common';
import { createApp } from './create-app';
import { ConfigValidationError, loadConfig } from './config/app-config';
import { EXAMPLE_FRONTEND_DIR } from './bootstrap/example-frontend';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      // One message naming every bad variable, then stop.
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config, { exampleFrontendDir: EXAMPLE_FRONTEND_DIR });
  await app.listen({ port: config.http.port, host: config.http.host });
  new Logger('Main').log(
    `Auth service listening on ${config.http.host}:${config.http.port} (public URL ${config.http.appUrl})`,
  );
}

void main().catch((error: unknown) => {
  console.error('Start-up failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
