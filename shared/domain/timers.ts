/**
 * An invitation's timers: the reminder before it expires and the `invitation.expired` event when
 * it does. A PENDING invitation has at most one next deadline at a time, in the sharded timer
 * index (GSI4, shared/deployment/table-schema.ts): the reminder time while a reminder is due for
 * its lifetime, then its expiry. The scheduled function (functions/fire-invitation-timers.ts)
 * fires what is due; these rules say what a deadline is and what firing it does.
 */
import { shardOf, TIMER_SHARDS } from './sharding.ts';
import { invitationLifetimeSeconds, type EmailStatus, type Invitation, type InvitationTimings } from './invitation.ts';

/** The timer index's shard count lives with the other shard counts (shared/domain/sharding.ts). */
export { TIMER_SHARDS } from './sharding.ts';

/** The timer shard of an invitation (shared/domain/sharding.ts). */
export function timerShard(invitationId: string, shards: number = TIMER_SHARDS): number {
  return shardOf(invitationId, shards);
}

/** Emails a reminder must not follow: none asked for (link-only), or the address bounced or complained. */
const NO_REMINDER_EMAIL_STATUSES: ReadonlySet<EmailStatus> = new Set(['NOT_REQUESTED', 'BOUNCED', 'COMPLAINED']);

type TimerFields = Pick<Invitation, 'status' | 'expiresAt' | 'lifetimeSeconds' | 'emailStatus' | 'remindedFor'>;

/**
 * When this lifetime's reminder is due (epoch seconds), or undefined if it gets none: reminders
 * off (REMINDER_BEFORE_SECONDS 0), no email to follow up, a lifetime shorter than twice the lead
 * (the invitation email itself is still recent), or already reminded for this expiry.
 */
export function reminderAt(invitation: TimerFields, timings: Pick<InvitationTimings, 'reminderBeforeSeconds' | 'expirySeconds'>): number | undefined {
  const lead = timings.reminderBeforeSeconds;
  if (lead <= 0) return undefined;
  if (NO_REMINDER_EMAIL_STATUSES.has(invitation.emailStatus)) return undefined;
  if (invitationLifetimeSeconds(invitation, timings) < 2 * lead) return undefined;
  if (invitation.remindedFor === invitation.expiresAt) return undefined;
  return invitation.expiresAt - lead;
}

/** The invitation's next deadline (epoch seconds): its reminder if one is due, else its expiry; none unless PENDING. */
export function nextTimerAt(invitation: TimerFields, timings: Pick<InvitationTimings, 'reminderBeforeSeconds' | 'expirySeconds'>): number | undefined {
  if (invitation.status !== 'PENDING') return undefined;
  return reminderAt(invitation, timings) ?? invitation.expiresAt;
}

/** What the firing function knows of an invitation: its stored fields and the deadline its index entry holds (none: no entry). */
export interface TimerState extends Pick<Invitation, 'status' | 'expiresAt' | 'emailStatus' | 'remindedFor'> {
  readonly timerAt: number | undefined;
}

export type TimerAction =
  /** Not due (or no entry any more): nothing to do. */
  | { readonly kind: 'none' }
  /** Answered or revoked, yet still indexed (an older write): take it out of the index. */
  | { readonly kind: 'drop' }
  /** Record `invitation.expired`; the entry leaves the index. */
  | { readonly kind: 'expire' }
  /** Request the reminder email, record `invitation.reminded`; the entry moves to the expiry. */
  | { readonly kind: 'remind' }
  /** The reminder is no longer wanted (the address bounced meanwhile): the entry moves to the expiry. */
  | { readonly kind: 'reschedule'; readonly at: number };

/**
 * What firing a due entry does. Expiry wins over a late reminder: an invitation whose reminder
 * deadline and expiry both passed (a backlog) is not reminded of an expiry already past.
 */
export function decideTimer(state: TimerState, nowSeconds: number): TimerAction {
  if (state.timerAt === undefined || nowSeconds < state.timerAt) return { kind: 'none' };
  if (state.status !== 'PENDING') return { kind: 'drop' };
  if (nowSeconds >= state.expiresAt) return { kind: 'expire' };
  const reminderStillWanted = !NO_REMINDER_EMAIL_STATUSES.has(state.emailStatus) && state.remindedFor !== state.expiresAt;
  if (state.timerAt < state.expiresAt && reminderStillWanted) return { kind: 'remind' };
  return { kind: 'reschedule', at: state.expiresAt };
}
