export interface MetricsOptions {
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Prefix of every metric name this service defines. */
  prefix: string;
}

export const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');
