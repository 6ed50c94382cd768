/**
 * OpenTelemetry tracing, off unless configured. Started by ../instrumentation.ts before anything
 * it patches (http, Fastify, pg, ioredis, pino) is required; the SDK and its instrumentations are
 * loaded only when tracing is on, so with tracing off none of them is in the process and no
 * request pays for a context manager or a patched module.
 */

/** Whether the standard `OTEL_*` variables ask for traces to be exported. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (exporters.includes('none')) return false;
  // `console` and `zipkin` need no OTLP endpoint; `otlp` (the default) does.
  if (exporters.some((e) => e !== 'otlp')) return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

let running: { shutdown(): Promise<void> } | undefined;

/** True once the SDK runs: spans.ts creates our own spans only then. */
export function tracingActive(): boolean {
  return running !== undefined;
}

/** Starts the SDK when the environment asks for it; returns whether it runs. */
export function startTracing(env: NodeJS.ProcessEnv = process.env): boolean {
  if (running) return true;
  if (!tracingWanted(env)) return false;
  // A synchronous, conditional load: the SDK must patch modules before the app requires them,
  // and must not be loaded at all when tracing is off (an `import` would always load it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./tracing-sdk') as typeof import('./tracing-sdk');
  running = sdk.startTracingSdk(env);
  return true;
}

/** Exports the spans still buffered, then stops (the app's shutdown hook calls it). */
export async function stopTracing(): Promise<void> {
  const sdk = running;
  running = undefined;
  await sdk?.shutdown();
}
