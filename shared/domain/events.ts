/**
 * Every change is an event. A state change and its event are written together (one transaction
 * or conditional write), so an event exists exactly when its change happened: no dual writes.
 * The events are the invitation's audit trail (GET …/invitations/{id}/events) and reach
 * EventBridge from the table's stream (shared/deployment/event-publishing.ts).
 *
 * Ids are stable: built from what the change is (its subject, type and version), never from
 * when it was recorded. A replayed stream record or a retried request that would repeat a
 * change fails its condition and writes nothing; and every copy EventBridge delivers of one
 * event carries the same id, so consumers deduplicate on it.
 */
import type { AssociationType } from './organization.ts';

export const EVENT_TYPES = [
  'invitation.created',
  'invitation.resent',
  'invitation.accepted',
  'invitation.rejected',
  'invitation.revoked',
  'invitation.expired',
  'invitation.reminded',
  'invitation.email.sent',
  'invitation.email.failed',
  'invitation.email.bounced',
  'invitation.email.complained',
  'organization.member.added',
  'organization.member.removed',
  'organization.member.role.changed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Who made a change: a user id (token `sub`), or the service itself (timers, email delivery). */
export type Actor = string;
export const SYSTEM_ACTOR: Actor = 'system';

export interface ServiceEvent {
  /** Stable: the same change always has the same id (see eventId). */
  readonly id: string;
  readonly type: EventType;
  /** ISO 8601, when the change was made. */
  readonly time: string;
  readonly orgId: number;
  /** The organization's name when the change was made. */
  readonly orgName: string;
  /** Absent on member events that no invitation caused. */
  readonly invitationId?: string;
  readonly actor: Actor;
  /** The fields the change set, with their new values (see the README's event catalogue). */
  readonly changes: Readonly<Record<string, unknown>>;
}

/**
 * The id of the change `type` to `subject` at `version`. The version is what makes a repeatable
 * change unique: the delivery sequence number for resends and emails, the expiry for the
 * reminder and the expiry of one lifetime, a timestamp for member changes an admin can repeat.
 * Changes that happen once per invitation (created, accepted, rejected, revoked) need none.
 */
export function eventId(subject: string, type: EventType, version?: string | number): string {
  return version === undefined ? `${subject}/${type}` : `${subject}/${type}/${version}`;
}

/** An event about an invitation. */
export function invitationEvent(
  invitation: { readonly id: string; readonly orgId: number; readonly orgName: string },
  type: EventType,
  change: { readonly actor: Actor; readonly nowMs: number; readonly version?: string | number; readonly changes?: Record<string, unknown> },
): ServiceEvent {
  return {
    id: eventId(`invitation/${invitation.id}`, type, change.version),
    type,
    time: new Date(change.nowMs).toISOString(),
    orgId: invitation.orgId,
    orgName: invitation.orgName,
    invitationId: invitation.id,
    actor: change.actor,
    changes: withoutUndefined(change.changes ?? {}),
  };
}

/** An event about a membership. `invitationId`: the invitation whose acceptance caused it. */
export function memberEvent(
  org: { readonly id: number; readonly name: string },
  type: Extract<EventType, `organization.member.${string}`>,
  change: {
    readonly userId: string;
    readonly actor: Actor;
    readonly nowMs: number;
    readonly associationType?: AssociationType;
    readonly invitationId?: string;
  },
): ServiceEvent {
  // Accepting an invitation adds a member once; an admin's removals and role changes can repeat.
  const version = change.invitationId === undefined ? change.nowMs : undefined;
  return {
    id: eventId(change.invitationId ? `invitation/${change.invitationId}` : `organization/${org.id}/member/${change.userId}`, type, version),
    type,
    time: new Date(change.nowMs).toISOString(),
    orgId: org.id,
    orgName: org.name,
    ...(change.invitationId !== undefined && { invitationId: change.invitationId }),
    actor: change.actor,
    changes: withoutUndefined({ userId: change.userId, associationType: change.associationType }),
  };
}

function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
