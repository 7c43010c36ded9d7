/**
 * Email delivery (the outbox's consumer): sends the email for one delivery request and records
 * the outcome once. Used by the stream-triggered function and by the sweep alike.
 */
import { backoff } from '../deadline.ts';
import { decideDelivery } from '../domain/invitation.ts';
import { renderInvitationEmail } from '../domain/invitation-email.ts';
import { DomainError } from '../domain/errors.ts';
import type { Invitation } from '../domain/invitation.ts';
import { MailerError, type Clock, type EmailDeliveryStore, type Mailer, type SendClaim } from '../ports.ts';

export interface DeliveryDeps {
  readonly store: EmailDeliveryStore;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly email: { readonly frontendUrl: string; readonly brandName: string };
  /** In-process retries of throttling/transient SES errors, before the stream's own retries. */
  readonly retry: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * How long a send claim holds: at least the longest a claimer can take from claiming to
   * recording its outcome (shared/wiring.ts derives it from the call limits).
   */
  readonly sendLeaseMs: number;
}

export interface DeliveryRequest {
  readonly orgId: number;
  readonly invitationId: string;
  readonly seq: number;
}

export type DeliveryResult =
  | { readonly kind: 'sent'; readonly messageId: string; readonly recorded: boolean }
  | { readonly kind: 'failed'; readonly reason: string }
  /** Answered before the email went out: recorded NOT_NEEDED, not a failure. */
  | { readonly kind: 'not-needed'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly reason: string };

/**
 * Only the holder of the request's send claim sends (the stream and the sweep, or two stream
 * deliveries, may both have read it PENDING): a delivery that finds the claim held by another
 * is `skipped` and sends nothing; the holder records the outcome, and if it dies its lease
 * ends and the sweep (the invitation is still in the pending-email index) sends it.
 *
 * Throws a retryable MailerError when SES stays unavailable after the in-process retries, having
 * released its claim: the caller reports the record as failed so the stream (and later the
 * sweep) tries again at once rather than after the lease.
 */
export async function deliverInvitationEmail(deps: DeliveryDeps, request: DeliveryRequest): Promise<DeliveryResult> {
  const invitation = await deps.store.get(request.orgId, request.invitationId);
  const decision = decideDelivery(invitation, request.seq, deps.clock.nowMs());
  if (decision.kind === 'skip') return { kind: 'skipped', reason: decision.reason };
  if (decision.kind === 'not-needed') {
    await deps.store.recordOutcome(invitation!, request.seq, { kind: 'not-needed' }, deps.clock.nowMs());
    return { kind: 'not-needed', reason: decision.reason };
  }
  if (decision.kind === 'abandon') {
    await deps.store.recordOutcome(invitation!, request.seq, { kind: 'failed', reason: decision.reason }, deps.clock.nowMs());
    return { kind: 'failed', reason: decision.reason };
  }

  const { invitation: current } = decision;
  const content = renderInvitationEmail({
    orgName: current.orgName,
    inviterName: current.inviterName,
    invitationId: current.id,
    expiresAt: current.expiresAt,
    kind: current.emailKind,
    ...deps.email,
  });
  const claim = await deps.store.claimSend(current, request.seq, deps.clock.nowMs(), deps.sendLeaseMs);
  if (!claim) return { kind: 'skipped', reason: 'another delivery holds the send claim, or the request was recorded meanwhile' };
  try {
    const { messageId } = await withRetries(deps, () =>
      deps.mailer.send({
        to: current.userEmail,
        ...content,
        tags: { invitationId: current.id, orgId: String(current.orgId), deliverySeq: String(request.seq) },
      }),
    );
    // Sending twice is still possible: a crash between the send above and this write, or this
    // write failing until the lease ends (the sweep then sends again), or a send that outlives its lease.
    const recorded = await recordSent(deps, current, request.seq, claim, messageId);
    return { kind: 'sent', messageId, recorded };
  } catch (error) {
    if (!(error instanceof MailerError)) throw error;
    if (error.retryable) {
      // SES did not take it (after a timeout it may have: the next try sends again, as it did
      // before claims): let that try claim at once. If releasing fails the lease still ends.
      await deps.store.releaseSend(current, claim).catch(() => false);
      throw error;
    }
    await deps.store.recordOutcome(current, request.seq, { kind: 'failed', reason: error.reason }, deps.clock.nowMs());
    return { kind: 'failed', reason: error.reason };
  }
}

/**
 * The sent outcome, retried while DynamoDB is busy or unavailable until the claim's lease ends (or
 * the invocation's deadline nears): SES has taken the email, and an outcome left unwritten is an
 * email sent twice, since once the lease is over the sweep sends it again. The retries only use
 * the lease's slack: the lease already allows for this write at its worst (shared/wiring.ts).
 */
async function recordSent(deps: DeliveryDeps, invitation: Invitation, seq: number, claim: SendClaim, messageId: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const nowMs = deps.clock.nowMs();
    try {
      return await deps.store.recordOutcome(invitation, seq, { kind: 'sent', messageId, at: new Date(nowMs).toISOString() }, nowMs);
    } catch (error) {
      const busy = error instanceof DomainError && error.kind === 'UNAVAILABLE';
      // The last try comes as the lease ends: a write landing after it is still right (the first
      // outcome counts), it just can no longer stop a second send.
      const leaseLeftMs = claim.untilMs - deps.clock.nowMs();
      const delayMs = jitteredDelay(attempt, OUTCOME_RETRY);
      if (!busy || leaseLeftMs <= 0 || !(await backoff(Math.min(delayMs, leaseLeftMs)))) throw error;
    }
  }
}

const OUTCOME_RETRY = { baseDelayMs: 100, maxDelayMs: 2_000 } as const;

/**
 * Exponential backoff with full jitter, for retryable mailer errors only. A wait that would reach
 * the invocation's deadline is not started: the error goes to the caller, which retries later.
 */
async function withRetries<T>(deps: DeliveryDeps, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const retryable = error instanceof MailerError && error.retryable;
      if (!retryable || attempt >= deps.retry.attempts) throw error;
      if (!(await backoff(jitteredDelay(attempt, deps.retry)))) throw error;
    }
  }
}

/** Exponential backoff with full jitter: the wait before retry number `attempt` (1-based). */
function jitteredDelay(attempt: number, { baseDelayMs, maxDelayMs }: { readonly baseDelayMs: number; readonly maxDelayMs: number }) {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

export interface SweepResult {
  readonly found: number;
  readonly sent: number;
  readonly failed: number;
  readonly notNeeded: number;
  readonly skipped: number;
  readonly stillUnavailable: number;
}

const SWEEP_COUNTER = { sent: 'sent', failed: 'failed', 'not-needed': 'notNeeded', skipped: 'skipped' } as const;

/**
 * Re-drives emails left PENDING longer than `minAgeSeconds`: the stream keeps records for 24
 * hours only, and records that exhausted their retries went to the dead-letter queue.
 */
export async function sweepPendingEmails(deps: DeliveryDeps, minAgeSeconds: number, limit: number): Promise<SweepResult> {
  const before = new Date(deps.clock.nowMs() - minAgeSeconds * 1000).toISOString();
  const pending = await deps.store.listPendingEmails(before, limit);
  const result = { found: pending.length, sent: 0, failed: 0, notNeeded: 0, skipped: 0, stillUnavailable: 0 };
  for (const item of pending) {
    try {
      const outcome = await deliverInvitationEmail(deps, { orgId: item.orgId, invitationId: item.invitationId, seq: item.deliverySeq });
      result[SWEEP_COUNTER[outcome.kind]]++;
    } catch (error) {
      if (!(error instanceof MailerError)) throw error;
      // SES is down or throttling: the rest would fail the same way; the next sweep goes on.
      result.stillUnavailable = pending.length - (result.sent + result.failed + result.notNeeded + result.skipped);
      break;
    }
  }
  return result;
}

