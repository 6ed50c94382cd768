// The process's first module (main.ts imports it before anything else): OpenTelemetry patches
// http, Fastify, pg, ioredis and pino as they are required, so it starts before any of them is.
// Whatever fills process.env (a .env file) must run before this module.
import { startTracing } from './observability/tracing';

startTracing();
