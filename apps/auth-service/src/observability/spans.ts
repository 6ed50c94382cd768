import { Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracingActive } from './tracing';

const tracer = trace.getTracer('auth-service');

/**
 * Runs `work` inside a span of its own (a child of the current one) when tracing is on, and
 * just runs it when it is off: no span object, no context switch.
 */
export function traced<T>(
  name: string,
  work: () => Promise<T>,
  options: { kind?: SpanKind; attributes?: Attributes } = {},
): Promise<T> {
  if (!tracingActive()) return work();
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work();
    } catch (error) {
      // The error's type only: messages of outside systems may quote what they were sent.
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      span.end();
    }
  });
}
