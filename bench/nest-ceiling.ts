// The reference for "Nest on Fastify, before anything of ours": one NestJS + Fastify GET route
// answering the ceiling's JSON body, no guards, interceptors, hooks or logging. The benchmark runs
// it as its own process; the gap between it and the bare Fastify route is the framework's.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { CEILING_BODY } from './ceiling-body';

@Controller()
class CeilingController {
  @Get()
  get(): typeof CEILING_BODY {
    return CEILING_BODY;
  }
}

@Module({ controllers: [CeilingController] })
class CeilingModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    CeilingModule,
    new FastifyAdapter({ skipMiddie: true }),
    { logger: false },
  );
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
