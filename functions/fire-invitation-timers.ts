/**
 * Scheduled every minute, once per timer worker (infra/timers.ts): fires the due timers of the
 * worker's shards (shared/services/timers.ts), i.e. requests the reminder email before an
 * invitation expires and records `invitation.expired` when it does. TTL deletion is never the
 * trigger: it comes days late.
 *
 * The event is `{ "worker": w }`, w in 0..TIMER_WORKERS−1 (shared/domain/sharding.ts). Any other
 * event (none, the bare scheduled event of a rule without input, a worker out of range) fails
 * the invocation before any call: the error alarm says the schedule is wrong, where a default
 * would silently fire every shard in one invocation, or none.
 */
import middy from '@middy/core';
import { DYNAMODB_CALL_LIMITS } from '../shared/adapters/dynamodb/client.ts';
import { deadlineFor, runWithDeadline } from '../shared/deadline.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import { timerShardsOfWorker } from '../shared/domain/sharding.ts';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { fireDueTimers, type TimerRunLimits } from '../shared/services/timers.ts';
import { createTimerDependencies } from '../shared/wiring.ts';

/** Wired at the first invocation (once per container), so that the limits below can be imported alone (bench/). */
let deps: ReturnType<typeof createTimerDependencies> | undefined;

/**
 * How one run fires. Each of its worker's shards is read in pages of `pageSize`, and up to `concurrency`
 * firings (one TransactWriteItems each) are in flight at once over its shards, under the SDK's
 * 50 sockets per client so that the shards' Queries still get through. A run keeps going until
 * no due entry is left or its deadline is nearer than `worstCaseMs` (one DynamoDB call at its
 * worst: every attempt at its timeout plus the SDK's backoff); the next run, a minute later,
 * picks up the rest. Throughput while it runs: concurrency ÷ the latency of one transaction
 * (SCALING.md, step 4).
 */
export const TIMER_RUN_LIMITS: TimerRunLimits = {
  pageSize: 250,
  concurrency: 32,
  worstCaseMs: DYNAMODB_CALL_LIMITS.maxAttempts * DYNAMODB_CALL_LIMITS.requestTimeoutMs + 150,
};

// The deadline counts from the configured timeout, which a scheduled invocation starts with (as
// the delivery function's does); DynamoDB calls are aborted at it (shared/deadline.ts).
export const handler = middy()
  .use(observability())
  .handler(async (event: unknown) => {
    const worker = typeof event === 'object' && event !== null ? (event as { worker?: unknown }).worker : undefined;
    const shards = timerShardsOfWorker(worker);
    return runWithDeadline(deadlineFor(undefined, FUNCTION_SIZES.timers), async () => {
      const result = await fireDueTimers((deps ??= createTimerDependencies()), TIMER_RUN_LIMITS, shards);
      if (result.expired) countMetric('InvitationsExpired', result.expired);
      if (result.reminded) countMetric('InvitationRemindersRequested', result.reminded);
      // A backlog the run could not finish in its time budget: the next run continues it.
      if (result.deferred) countMetric('InvitationTimersDeferred', result.deferred);
      // maxDelaySeconds: how late this run fired its latest deadline (the schedule's period, or a backlog).
      logger.info('timers fired', { worker, ...result });
      return result;
    });
  });
