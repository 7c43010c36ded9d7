/**
 * Firing the invitations' timers (domain/timers.ts). One run reads its shards of the timer index
 * (a timer worker's, domain/sharding.ts; every shard by default) in parallel, page after page, and fires the due entries with a bounded number in flight over
 * all shards, until no due entry is left or the invocation's time budget runs out; the next run
 * picks up the rest. Each firing is one transaction conditioned on the state it was decided on
 * (adapters/dynamodb/timer-store.ts), so firings of different invitations are independent. An
 * invitation has one entry, in one shard, read once per run (the pages follow each other with one
 * bound), and a shard's next page is read only after its previous page's firings ended: no
 * invitation is fired twice at once by one run.
 */
import { DeadlineExceeded, msLeft } from '../deadline.ts';
import { invitationEvent, SYSTEM_ACTOR, type ServiceEvent } from '../domain/events.ts';
import { decideTimer, TIMER_SHARDS, type TimerAction } from '../domain/timers.ts';

const ALL_TIMER_SHARDS: readonly number[] = Array.from({ length: TIMER_SHARDS }, (_, shard) => shard);
import type { Clock, DueTimer, TimerCursor, TimerStore } from '../ports.ts';

export interface TimerDeps {
  readonly timers: TimerStore;
  readonly clock: Clock;
}

export interface TimerRunLimits {
  /** Due entries one Query returns (a page of one shard). */
  readonly pageSize: number;
  /** Firings in flight at once, over all shards. */
  readonly concurrency: number;
  /**
   * The longest one firing attempt (and one Query) takes at worst: none is started with less
   * than this left before the invocation's deadline (shared/deadline.ts), so the run ends on its
   * own instead of with calls aborted.
   */
  readonly worstCaseMs: number;
}

export interface TimerRunResult {
  /** Due entries the queries returned. */
  readonly found: number;
  readonly expired: number;
  readonly reminded: number;
  /** Entries moved to the expiry without a reminder, or dropped (answered or revoked meanwhile). */
  readonly rescheduled: number;
  /** Changed meanwhile by someone else (an answer, a resend, another run): nothing to do. */
  readonly skipped: number;
  /** Entries found but not fired: the time budget ran out first. They stay in the index for the next run. */
  readonly deferred: number;
  /** The run stopped at its time budget: due entries may be left (found and deferred, or not read yet). */
  readonly outOfTime: boolean;
  /** Seconds from the latest deadline fired to its event: how late this run was. */
  readonly maxDelaySeconds: number;
}

/** Fresh states a changed invitation is decided on again before the entry is left for the next run. */
const MAX_ATTEMPTS = 3;

/** Fires the due entries of `shards`: the function passes its worker's (timerShardsOfWorker); tests and the bench, all. */
export async function fireDueTimers(deps: TimerDeps, limits: TimerRunLimits, shards: readonly number[] = ALL_TIMER_SHARDS): Promise<TimerRunResult> {
  const result = { found: 0, expired: 0, reminded: 0, rescheduled: 0, skipped: 0, deferred: 0, outOfTime: false, maxDelaySeconds: 0 };
  // One bound for the whole run: a shard's pages continue one Query, so an entry is read once.
  const nowSeconds = deps.clock.nowMs() / 1000;
  const hasTime = () => {
    if (msLeft() >= limits.worstCaseMs) return true;
    result.outOfTime = true;
    return false;
  };
  const slots = new Slots(limits.concurrency);

  const fireShard = async (shard: number) => {
    let after: TimerCursor | undefined;
    do {
      if (!hasTime()) return;
      const page = await deps.timers.dueTimers(shard, nowSeconds, limits.pageSize, after);
      result.found += page.timers.length;
      const fired = await Promise.allSettled(
        page.timers.map((timer) =>
          slots.run(async () => {
            const outcome = hasTime() ? await fireOne(deps, timer, hasTime) : { kind: 'deferred' as const };
            count(result, outcome);
          }),
        ),
      );
      // A failure (throttling) stops this shard for this run; the entries stay for the next.
      const failure = fired.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) throw failure.reason;
      after = page.next;
    } while (after);
  };

  // A shard's failure must not stop the others; the error is reported after all ran.
  const settled = await Promise.allSettled(
    shards.map((shard) =>
      fireShard(shard).catch((error: unknown) => {
        // A Query cut off at the deadline: what it would have found waits for the next run.
        if (!(error instanceof DeadlineExceeded)) throw error;
        result.outOfTime = true;
      }),
    ),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return result;
}

type FireResult =
  | { kind: 'none' | 'deferred' }
  | { kind: Exclude<TimerAction['kind'], 'none'>; delaySeconds: number };

function count(result: { -readonly [K in keyof TimerRunResult]: TimerRunResult[K] }, outcome: FireResult): void {
  if (outcome.kind === 'none') result.skipped++;
  else if (outcome.kind === 'deferred') result.deferred++;
  else if (outcome.kind === 'expire') result.expired++;
  else if (outcome.kind === 'remind') result.reminded++;
  else result.rescheduled++;
  if (outcome.kind === 'expire' || outcome.kind === 'remind') {
    result.maxDelaySeconds = Math.max(result.maxDelaySeconds, outcome.delaySeconds);
  }
}

async function fireOne(deps: TimerDeps, first: DueTimer, hasTime: () => boolean): Promise<FireResult> {
  let timer: DueTimer | undefined = first;
  for (let attempt = 1; timer && attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1 && !hasTime()) return { kind: 'deferred' };
    const nowMs = deps.clock.nowMs();
    const action = decideTimer(timer.state, nowMs / 1000);
    if (action.kind === 'none') return action;
    let outcome;
    try {
      outcome = await deps.timers.fire(timer, action, eventOf(timer, action, nowMs), nowMs);
    } catch (error) {
      // Cut off at the deadline: the transaction either committed or changed nothing; either
      // way the next run decides on what it finds.
      if (error instanceof DeadlineExceeded) return { kind: 'deferred' };
      throw error;
    }
    if (outcome.ok) return { kind: action.kind, delaySeconds: nowMs / 1000 - timer.state.timerAt! };
    timer = outcome.current;
  }
  return { kind: 'none' };
}

/** At most `size` tasks running at once; the others wait their turn in order. */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** The event a firing records: one per lifetime (the version is its expiry), so never twice. */
function eventOf(timer: DueTimer, action: Exclude<TimerAction, { kind: 'none' }>, nowMs: number): ServiceEvent | undefined {
  const invitation = { id: timer.invitationId, orgId: timer.orgId, orgName: timer.orgName };
  const { expiresAt } = timer.state;
  const change = { actor: SYSTEM_ACTOR, nowMs, version: expiresAt };
  if (action.kind === 'expire') return invitationEvent(invitation, 'invitation.expired', { ...change, changes: { expiresAt } });
  if (action.kind === 'remind') {
    return invitationEvent(invitation, 'invitation.reminded', { ...change, changes: { expiresAt, emailStatus: 'PENDING' } });
  }
  return undefined;
}
