import { describe, expect, it } from 'vitest';
import { DYNAMODB_CALL_LIMITS } from '../../shared/adapters/dynamodb/client.ts';
import { currentDeadline, DeadlineExceeded, deadlineFor, deadlineSignal, msLeft, runWithDeadline } from '../../shared/deadline.ts';
import { FUNCTION_SIZES } from '../../shared/deployment/function-sizes.ts';

describe('deadline', () => {
  const size = { timeoutSeconds: 10, deadlineMarginMs: 2_000 };

  it('is the remaining time the Lambda context reports, capped by the configured timeout, minus the margin', () => {
    const now = Date.now();
    expect(deadlineFor({ getRemainingTimeInMillis: () => 7_000 }, size).at - now).toBeGreaterThanOrEqual(5_000);
    expect(deadlineFor({ getRemainingTimeInMillis: () => 7_000 }, size).at - now).toBeLessThan(5_100);
    expect(deadlineFor({ getRemainingTimeInMillis: () => 900_000 }, size).at - now).toBeLessThan(8_100);
    expect(deadlineFor(undefined, size).at - now).toBeGreaterThanOrEqual(8_000);
    expect(deadlineFor({ getRemainingTimeInMillis: () => Number.NaN }, size).at - now).toBeLessThan(8_100);
  });

  it('is carried through awaits of the invocation, and absent outside one', async () => {
    expect(currentDeadline()).toBeUndefined();
    expect(msLeft()).toBe(Infinity);
    expect(deadlineSignal()).toBeUndefined();
    await runWithDeadline({ at: Date.now() + 5_000 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(msLeft()).toBeGreaterThan(4_000);
      expect(deadlineSignal()?.aborted).toBe(false);
    });
    await runWithDeadline({ at: Date.now() - 1 }, async () => {
      const signal = deadlineSignal()!;
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(DeadlineExceeded);
    });
  });

  it('gives every call of an invocation the same signal, which fires at the deadline with DeadlineExceeded', async () => {
    await runWithDeadline({ at: Date.now() + 30 }, async () => {
      const signal = deadlineSignal()!;
      expect(deadlineSignal()).toBe(signal);
      expect(signal.aborted).toBe(false);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      expect(signal.reason).toBeInstanceOf(DeadlineExceeded);
    });
    let first: AbortSignal | undefined;
    await runWithDeadline({ at: Date.now() + 5_000 }, async () => {
      first = deadlineSignal();
    });
    await runWithDeadline({ at: Date.now() + 5_000 }, async () => {
      expect(deadlineSignal()).not.toBe(first);
    });
  });

  it('leaves an API function room for two full DynamoDB attempts and their backoff before its deadline', () => {
    const budgetMs = FUNCTION_SIZES.api.timeoutSeconds * 1000 - FUNCTION_SIZES.api.deadlineMarginMs;
    expect(2 * DYNAMODB_CALL_LIMITS.requestTimeoutMs + 150).toBeLessThan(budgetMs);
    expect(FUNCTION_SIZES.api.deadlineMarginMs).toBeGreaterThanOrEqual(1_000);
  });
});
