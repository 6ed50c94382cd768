import { Logger } from '@nestjs/common';
import { loadConsumerConfig } from './consumer-config';
import { createConsumerApp } from './create-consumer-app';

async function main(): Promise<void> {
  const config = loadConsumerConfig();
  const app = await createConsumerApp(config);
  await app.listen({ port: config.port, host: config.host });
  new Logger('Main').log(
    `Example consumer listening on ${config.host}:${config.port}, trusting ${config.auth.authUrl}`,
  );
}

void main().catch((error: unknown) => {
  console.error('Start-up failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
