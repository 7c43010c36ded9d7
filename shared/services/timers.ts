/**
 * Firing the invitations' timers (domain/timers.ts): one run queries every shard of the timer
 * index in parallel, each for at most `perShard` due entries, and fires them one by one. Bounded
 * work per run; a backlog drains at up to TIMER_SHARDS × perShard entries per run.
 */
import { invitationEvent, SYSTEM_ACTOR, type ServiceEvent } from '../domain/events.ts';
import { decideTimer, TIMER_SHARDS, type TimerAction } from '../domain/timers.ts';
import type { Clock, DueTimer, TimerStore } from '../ports.ts';

export interface TimerDeps {
  readonly timers: TimerStore;
  readonly clock: Clock;
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
  /** Seconds from the latest deadline fired to its event: how late this run was. */
  readonly maxDelaySeconds: number;
}

/** Fresh states a changed invitation is decided on again before the entry is left for the next run. */
const MAX_ATTEMPTS = 3;

export async function fireDueTimers(deps: TimerDeps, perShard: number): Promise<TimerRunResult> {
  const result = { found: 0, expired: 0, reminded: 0, rescheduled: 0, skipped: 0, maxDelaySeconds: 0 };
  const shards = Array.from({ length: TIMER_SHARDS }, (_, shard) => shard);
  // A shard's failure (throttling) must not stop the others; the error is reported after all ran.
  const settled = await Promise.allSettled(
    shards.map(async (shard) => {
      const due = await deps.timers.dueTimers(shard, deps.clock.nowMs() / 1000, perShard);
      result.found += due.length;
      for (const timer of due) {
        const outcome = await fireOne(deps, timer);
        if (outcome.kind === 'none') result.skipped++;
        else if (outcome.kind === 'expire') result.expired++;
        else if (outcome.kind === 'remind') result.reminded++;
        else result.rescheduled++;
        if (outcome.kind === 'expire' || outcome.kind === 'remind') {
          result.maxDelaySeconds = Math.max(result.maxDelaySeconds, outcome.delaySeconds);
        }
      }
    }),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return result;
}

type FireResult = { kind: 'none' } | { kind: Exclude<TimerAction['kind'], 'none'>; delaySeconds: number };

async function fireOne(deps: TimerDeps, first: DueTimer): Promise<FireResult> {
  let timer: DueTimer | undefined = first;
  for (let attempt = 1; timer && attempt <= MAX_ATTEMPTS; attempt++) {
    const nowMs = deps.clock.nowMs();
    const action = decideTimer(timer.state, nowMs / 1000);
    if (action.kind === 'none') return action;
    const outcome = await deps.timers.fire(timer, action, eventOf(timer, action, nowMs), nowMs);
    if (outcome.ok) return { kind: action.kind, delaySeconds: nowMs / 1000 - timer.state.timerAt! };
    timer = outcome.current;
  }
  return { kind: 'none' };
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
