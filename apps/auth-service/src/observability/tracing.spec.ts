import { tracingActive, tracingWanted, startTracing } from './tracing';

describe('tracingWanted (the standard OTEL_* variables)', () => {
  it.each<[string, NodeJS.ProcessEnv, boolean]>([
    ['nothing set', {}, false],
    ['an OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    ['a traces-only OTLP endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, true],
    ['a blank endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    ['the SDK disabled', { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, false],
    [
      'the traces exporter none',
      { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' },
      false,
    ],
    ['the console exporter, no endpoint', { OTEL_TRACES_EXPORTER: 'console' }, true],
    ['otlp named, no endpoint', { OTEL_TRACES_EXPORTER: 'otlp' }, false],
  ])('%s → %s', (_, env, wanted) => {
    expect(tracingWanted(env)).toBe(wanted);
  });
});

describe('startTracing with tracing off', () => {
  it('loads neither the SDK nor an instrumentation, and creates no span', () => {
    expect(startTracing({})).toBe(false);
    expect(tracingActive()).toBe(false);
    const loaded = Object.keys(require.cache);
    expect(
      loaded.filter((path) => /@opentelemetry[\\/](sdk-|instrumentation)|@fastify[\\/]otel/.test(path)),
    ).toEqual([]);
  });
});
