/**
 * The events of the API's and the email delivery's changes: which fields each records (the
 * README's event catalogue) and which version makes its id stable. The stores put them in the
 * same transaction as the change (shared/adapters/dynamodb/items.ts putEvent).
 */
import { invitationEvent, memberEvent, SYSTEM_ACTOR, type Actor, type ServiceEvent } from './events.ts';
import type { Invitation } from './invitation.ts';
import type { AssociationType } from './organization.ts';

type InvitationFacts = Pick<Invitation, 'id' | 'orgId' | 'orgName'>;

/** Once per invitation. `emailStatus` PENDING: an email was requested; NOT_REQUESTED: link only. */
export function invitationCreated(invitation: Invitation, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, 'invitation.created', {
    actor: invitation.invitedBy,
    nowMs,
    changes: {
      email: invitation.userEmail,
      associationType: invitation.associationType,
      expiresAt: invitation.expiresAt,
      emailStatus: invitation.emailStatus,
    },
  });
}

/** Versioned by the delivery request it makes: each resend is its own event. */
export function invitationResent(invitation: Invitation, actor: Actor, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, 'invitation.resent', {
    actor,
    nowMs,
    version: invitation.deliverySeq,
    changes: { expiresAt: invitation.expiresAt, deliverySeq: invitation.deliverySeq },
  });
}

/** Accepted or rejected: once per invitation (only a PENDING invitation can be answered). */
export function invitationAnswered(invitation: Invitation, status: 'ACCEPTED' | 'REJECTED', actor: Actor, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, status === 'ACCEPTED' ? 'invitation.accepted' : 'invitation.rejected', {
    actor,
    nowMs,
    changes: { status, userId: actor },
  });
}

/**
 * The membership an acceptance grants. Recorded on every acceptance: the answer does not read
 * the invitee's membership first, so this event also stands for an acceptance that found one
 * (kept as is, or upgraded to ADMIN by an ADMIN invitation); `associationType` is the role the
 * invitation granted.
 */
export function memberAddedByInvitation(
  invitation: InvitationFacts,
  member: { readonly userId: string; readonly associationType: AssociationType },
  nowMs: number,
): ServiceEvent {
  return memberEvent({ id: invitation.orgId, name: invitation.orgName }, 'organization.member.added', {
    userId: member.userId,
    actor: member.userId,
    nowMs,
    associationType: member.associationType,
    invitationId: invitation.id,
  });
}

export function invitationRevoked(invitation: Invitation, actor: Actor, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, 'invitation.revoked', { actor, nowMs, changes: { status: 'REVOKED' } });
}

/** The outcome of delivery request `deliverySeq`: recorded once per request (its version). */
export function emailSent(invitation: InvitationFacts, delivery: { deliverySeq: number; messageId: string }, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, 'invitation.email.sent', {
    actor: SYSTEM_ACTOR,
    nowMs,
    version: delivery.deliverySeq,
    changes: { deliverySeq: delivery.deliverySeq, messageId: delivery.messageId },
  });
}

export function emailFailed(invitation: InvitationFacts, delivery: { deliverySeq: number; reason: string }, nowMs: number): ServiceEvent {
  return invitationEvent(invitation, 'invitation.email.failed', {
    actor: SYSTEM_ACTOR,
    nowMs,
    version: delivery.deliverySeq,
    changes: { deliverySeq: delivery.deliverySeq, reason: delivery.reason },
  });
}

/** SES feedback about one message: versioned by its message id. */
export function emailFeedback(
  invitation: InvitationFacts,
  feedback: { status: 'BOUNCED' | 'COMPLAINED'; messageId: string; reason: string },
  nowMs: number,
): ServiceEvent {
  return invitationEvent(invitation, feedback.status === 'BOUNCED' ? 'invitation.email.bounced' : 'invitation.email.complained', {
    actor: SYSTEM_ACTOR,
    nowMs,
    version: feedback.messageId,
    changes: { emailStatus: feedback.status, messageId: feedback.messageId, reason: feedback.reason },
  });
}

/** An admin removed a member, or a member left (actor = the member). */
export function memberRemoved(org: { id: number; name: string }, userId: string, actor: Actor, nowMs: number): ServiceEvent {
  return memberEvent(org, 'organization.member.removed', { userId, actor, nowMs });
}

export function memberRoleChanged(
  org: { id: number; name: string },
  member: { userId: string; associationType: AssociationType },
  actor: Actor,
  nowMs: number,
): ServiceEvent {
  return memberEvent(org, 'organization.member.role.changed', { userId: member.userId, actor, nowMs, associationType: member.associationType });
}
