/**
 * Memory, timeout and time budget of each kind of function: read by the CDK stack
 * (infra/functions.ts), by the function wrappers (the deadline) and by the local API gateway,
 * which enforces the same timeouts, so that local runs time out where Lambda would.
 */
export type FunctionKind = 'api' | 'delivery' | 'sweep' | 'feedback' | 'events' | 'timers';

export interface FunctionSize {
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /**
   * How long before the timeout the invocation's deadline falls (shared/deadline.ts): time to
   * abort what is in flight and still give the designed answer (API: 503 + Retry-After; delivery:
   * batch item failures) instead of being killed. See the README's "Time budgets".
   */
  readonly deadlineMarginMs: number;
}

/** Request-path functions get more memory (and with it CPU) for short cold starts. */
export const FUNCTION_SIZES: Record<FunctionKind, FunctionSize> = {
  api: { memorySize: 512, timeoutSeconds: 10, deadlineMarginMs: 2_000 },
  delivery: { memorySize: 256, timeoutSeconds: 60, deadlineMarginMs: 5_000 },
  sweep: { memorySize: 256, timeoutSeconds: 120, deadlineMarginMs: 5_000 },
  feedback: { memorySize: 256, timeoutSeconds: 30, deadlineMarginMs: 5_000 },
  /** The event pipe's enrichment: pure, no AWS call. */
  events: { memorySize: 256, timeoutSeconds: 10, deadlineMarginMs: 2_000 },
  /**
   * One vCPU (Lambda gives memory ÷ 1,769 MB of one): a firing costs ~3 ms of Node CPU
   * (bench/timers.ts), so a worker fires ~330 a second while it runs instead of ~48 at 256 MB
   * (SCALING.md, step 4). Under the schedule's minute: a run never overlaps the next (its writes
   * are safe if it did).
   */
  timers: { memorySize: 1_769, timeoutSeconds: 55, deadlineMarginMs: 5_000 },
};

