/** Counting a request against its caller's rate limit: the one place that exempts realm admins. */
import type { Caller } from '../domain/caller.ts';
import type { RateLimitPolicy, RateLimitState } from '../domain/rate-limit.ts';
import type { Clock, RateLimiter } from '../ports.ts';

/**
 * Counts one `action` request of the caller (throws RATE_LIMITED over the limit). Realm admins are
 * exempt: nothing is counted and there is no state to report (no X-RateLimit-* headers).
 */
export async function countRequest<Action extends string>(
  deps: { readonly rateLimiter: RateLimiter; readonly rateLimits: Readonly<Record<Action, RateLimitPolicy>>; readonly clock: Clock },
  caller: Caller,
  action: Action,
  nowMs: number = deps.clock.nowMs(),
): Promise<RateLimitState | undefined> {
  if (caller.isRealmAdmin) return undefined;
  return deps.rateLimiter.consume(action, caller.userId, deps.rateLimits[action], nowMs);
}
