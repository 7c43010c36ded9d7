import { DomainError } from './errors.ts';

/** "N/S": at most N requests per S seconds, counted in fixed windows. */
export interface RateLimitPolicy {
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds at which the current window ends. */
  readonly resetAt: number;
}

export function parseRateLimit(text: string): RateLimitPolicy {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(limit) || !Number.isSafeInteger(windowSeconds) || limit < 1 || windowSeconds < 1) {
    throw new Error(`expected "<requests>/<seconds>" with both at least 1, got "${text}"`);
  }
  return { limit, windowSeconds };
}

/**
 * Fixed windows: cheap (one conditional counter update per request) and exact across any number
 * of concurrent Lambda instances. The price is that a burst straddling a window boundary can see
 * up to 2N requests in S seconds; documented in the README.
 */
export function rateLimitWindow(policy: RateLimitPolicy, nowMs: number) {
  const index = Math.floor(nowMs / 1000 / policy.windowSeconds);
  return { index, resetAt: (index + 1) * policy.windowSeconds };
}

export function rateLimited(state: RateLimitState, nowMs: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(state.resetAt - nowMs / 1000));
  return new DomainError('RATE_LIMITED', `Too many requests. Try again in ${retryAfterSeconds} seconds.`, {
    rateLimit: state,
    retryAfterSeconds,
  });
}
