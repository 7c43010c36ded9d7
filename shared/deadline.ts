/**
 * A per-invocation time budget. The function wrapper sets a deadline a margin before Lambda would
 * kill the invocation (`runWithDeadline`); every DynamoDB call made inside it
 * (shared/adapters/dynamodb/client.ts) is aborted at the deadline, and retry backoffs that would
 * cross it are cut short. The designed answer (503 + Retry-After for the API, a batch item
 * failure for the delivery function) then always comes before Lambda's timeout, whose answer
 * would be API Gateway's bare 500 or a whole batch retried.
 *
 * AsyncLocalStorage carries the deadline through every await of the invocation, so no port or
 * service signature has to pass it along. Outside an invocation (tests, scripts) there is none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';

export interface Deadline {
  /** Epoch milliseconds. */
  readonly at: number;
}

/** An invocation's deadline and, once a call asked for it, the one signal that fires at it. */
interface Invocation {
  readonly deadline: Deadline;
  signal?: AbortSignal;
  timer?: NodeJS.Timeout;
}

const storage = new AsyncLocalStorage<Invocation>();

/**
 * The deadline of an invocation that starts now: the Lambda context's remaining time (capped by
 * the function's configured timeout, in case a runtime reports none or more) minus the margin.
 */
export function deadlineFor(
  context: { getRemainingTimeInMillis?: () => number } | undefined,
  size: { readonly timeoutSeconds: number; readonly deadlineMarginMs: number },
): Deadline {
  const timeoutMs = size.timeoutSeconds * 1000;
  const reported = context?.getRemainingTimeInMillis?.();
  const remaining = typeof reported === 'number' && Number.isFinite(reported) && reported > 0 ? Math.min(reported, timeoutMs) : timeoutMs;
  return { at: Date.now() + remaining - size.deadlineMarginMs };
}

export async function runWithDeadline<T>(deadline: Deadline, fn: () => Promise<T>): Promise<T> {
  const invocation: Invocation = { deadline };
  try {
    return await storage.run(invocation, fn);
  } finally {
    // The invocation has settled: nothing waits on its calls any more (on Lambda they would be
    // frozen), and each still ends at the SDK's per-attempt requestTimeout.
    clearTimeout(invocation.timer);
  }
}

export function currentDeadline(): Deadline | undefined {
  return storage.getStore()?.deadline;
}

/** Milliseconds left before the current deadline; Infinity without one. */
export function msLeft(): number {
  const invocation = storage.getStore();
  return invocation ? invocation.deadline.at - Date.now() : Infinity;
}

/**
 * The one retry backoff: waits `ms`, unless the wait would reach the current deadline; then it
 * returns false at once, for the caller to give up now (a retry after it could not finish in time).
 */
export async function backoff(ms: number): Promise<boolean> {
  if (ms >= msLeft()) return false;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return true;
}

/**
 * An AbortSignal that fires at the current deadline (already aborted if it has passed); undefined
 * without one. One per invocation, whatever the number of calls: a timer per call would each fire
 * long after its call ended, on every request.
 */
export function deadlineSignal(): AbortSignal | undefined {
  const invocation = storage.getStore();
  if (!invocation) return undefined;
  if (!invocation.signal) {
    const controller = new AbortController();
    // Every concurrent call of the invocation listens to it (the SDK and the client wrapper).
    setMaxListeners(0, controller.signal);
    const left = invocation.deadline.at - Date.now();
    if (left <= 0) controller.abort(new DeadlineExceeded());
    else invocation.timer = setTimeout(() => controller.abort(new DeadlineExceeded()), left).unref();
    invocation.signal = controller.signal;
  }
  return invocation.signal;
}

/** The invocation's time budget ran out before the work could finish. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('The invocation deadline passed.');
    this.name = 'DeadlineExceeded';
  }
}
