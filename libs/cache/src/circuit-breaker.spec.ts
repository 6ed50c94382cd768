import { CircuitBreaker, CircuitState } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const changes: CircuitState[] = [];
  const breaker = () =>
    new CircuitBreaker(
      3,
      1_000,
      () => now,
      (s) => changes.push(s),
    );

  beforeEach(() => {
    now = 0;
    changes.length = 0;
  });

  it('opens after the threshold of consecutive failures, not before', () => {
    const b = breaker();
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
  });

  it('lets exactly one probe through after the cool-down; success closes it', () => {
    const b = breaker();
    [1, 2, 3].forEach(() => b.failure());
    now = 999;
    expect(b.allow()).toBe(false);
    now = 1_000;
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens at once when the probe fails', () => {
    const b = breaker();
    [1, 2, 3].forEach(() => b.failure());
    now = 1_000;
    b.allow();
    b.failure();
    expect(b.state).toBe('open');
    now = 1_500;
    expect(b.allow()).toBe(false);
  });
});
