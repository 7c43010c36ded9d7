/**
 * The stored items of the single table and the domain objects they hold, both ways (the item
 * catalogue is in shared/deployment/table-schema.ts; the keys in keys.ts).
 */
import { tableSchema } from '../../deployment/table-schema.ts';
import { normalizeEmail } from '../../domain/email.ts';
import { invitationTtl, type Invitation, type InvitationTimings } from '../../domain/invitation.ts';
import type { ServiceEvent } from '../../domain/events.ts';
import { nextTimerAt, timerShard } from '../../domain/timers.ts';
import type { Membership, Organization, OrganizationNameEntry } from '../../domain/organization.ts';
import type { OrganizationAccess, PendingEmail } from '../../ports.ts';
import { keys } from './keys.ts';

export type Item = Record<string, unknown>;

/** The item with exactly this key among `items`, if any. */
export function findItem(items: readonly Item[], key: { readonly PK: string; readonly SK: string }): Item | undefined {
  return items.find((item) => item.PK === key.PK && item.SK === key.SK);
}

/**
 * Every field of T, each named once: a field T gains and the list lacks fails to compile, so a
 * mapper built from the list cannot silently drop it.
 */
function fieldsOf<T>() {
  return <const F extends readonly (keyof T & string)[]>(fields: [Exclude<keyof T, F[number]>] extends [never] ? F : never) => fields;
}

/** The domain object an item holds: the listed fields as stored (items are written from the same types). */
function pick<T>(item: Item, fields: readonly (keyof T & string)[]): T {
  // A plain loop: this runs for every item every read returns (21 per list page).
  const picked: Record<string, unknown> = {};
  for (const field of fields) picked[field] = item[field];
  return picked as T;
}

const ORGANIZATION_FIELDS = fieldsOf<Organization>()([
  'id', 'name', 'visibility', 'contactEmail', 'description', 'contactPhone', 'website', 'address', 'creator', 'createdAt', 'updatedAt',
]);

const MEMBERSHIP_FIELDS = fieldsOf<Membership>()(['orgId', 'userId', 'username', 'email', 'associationType']);

const INVITATION_FIELDS = fieldsOf<Invitation>()([
  'id', 'orgId', 'orgName', 'userEmail', 'emailNormalized', 'status', 'associationType', 'expiresAt', 'lifetimeSeconds', 'createdAt',
  'invitedBy', 'inviterName', 'userId', 'respondedAt', 'deliverySeq', 'deliveredSeq', 'emailRequestedAt', 'emailStatus', 'sendCount', 'lastSentAt', 'lastError', 'messageId',
  'revokedAt', 'revokedBy', 'emailKind', 'remindedFor',
]);

export function toOrganizationItem(org: Organization): Item {
  return { ...keys.organization(org.id), type: 'Organization', ...org };
}

export function fromOrganizationItem(item: Item): Organization {
  return pick(item, ORGANIZATION_FIELDS);
}

/** Membership item; also indexed by user (GSI1) for "my organizations". */
export function toMembershipItem(m: Membership): Item {
  return {
    ...keys.membership(m.orgId, m.userId),
    ...keys.userOrganizations(m.userId),
    GSI1SK: keys.userOrganizationSortKey(m.orgId),
    type: 'Membership',
    ...m,
    emailNormalized: m.email === undefined ? undefined : normalizeEmail(m.email),
  };
}

export function fromMembershipItem(item: Item): Membership {
  return pick(item, MEMBERSHIP_FIELDS);
}

/** The organization and the user's membership, from items read together (the organization's absence: undefined). */
export function accessFrom(items: Item[], orgId: number, userId: string): OrganizationAccess | undefined {
  const orgItem = findItem(items, keys.organization(orgId));
  if (!orgItem) return undefined;
  const memberItem = findItem(items, keys.membership(orgId, userId));
  return {
    organization: fromOrganizationItem(orgItem),
    membership: memberItem ? fromMembershipItem(memberItem) : undefined,
  };
}

/** A name held by an organization (its current name; an old one while `aliasUntil` is set). */
export function toNameItem(name: string, orgId: number): Item {
  return { ...keys.organizationName(name), type: 'OrganizationName', orgId };
}

export function fromNameItem(item: Item): OrganizationNameEntry {
  return { orgId: item.orgId as number, aliasUntil: item.aliasUntil as number | undefined };
}

/**
 * The stored item of an invitation: its keys (LSI1 position, GSI2 while its email is pending,
 * GSI3 while it is PENDING, GSI4 while it has a next deadline) and TTL.
 */
export function toInvitationItem(invitation: Invitation, timings: InvitationTimings): Item {
  return {
    ...keys.invitation(invitation.orgId, invitation.id),
    [tableSchema.invitationsByCreatedIndex.sortKey]: keys.invitationCreatedSortKey(invitation.createdAt, invitation.id),
    ...(invitation.emailStatus === 'PENDING' && keys.pendingEmail(invitation.id, invitation.emailRequestedAt)),
    ...(invitation.status === 'PENDING' && {
      ...keys.inviteeInvitations(invitation.emailNormalized),
      [tableSchema.inviteeInvitationsIndex.sortKey]: keys.inviteeInvitationSortKey(invitation.createdAt, invitation.id),
    }),
    ...timerKeys(invitation, timings),
    type: 'Invitation',
    ...invitation,
    [tableSchema.ttlAttribute]: invitationTtl(invitation.expiresAt, timings),
  };
}

/**
 * The timer index keys (GSI4) of an invitation in this state: its next deadline (domain/timers.ts),
 * or none. Every write that starts a lifetime (create, resend) sets them; answer and revoke
 * REMOVE GSI4PK and GSI4SK.
 */
export function timerKeys(invitation: Parameters<typeof nextTimerAt>[0] & Pick<Invitation, 'id'>, timings: InvitationTimings): { GSI4PK: string; GSI4SK: string } | undefined {
  const at = nextTimerAt(invitation, timings);
  return at === undefined ? undefined : keys.timer(timerShard(invitation.id), at, invitation.id);
}

export function fromInvitationItem(item: Item): Invitation {
  const invitation = pick<Invitation>(item, INVITATION_FIELDS);
  // Invitations stored before they had roles all granted MEMBER.
  return invitation.associationType === undefined ? { ...invitation, associationType: 'MEMBER' } : invitation;
}

/** The guard GUARD#<email> that holds an address for one live invitation until `expiresAt`. */
export function toPendingGuardItem(invitation: Invitation, expiresAt: number): Item {
  return {
    ...keys.pendingGuard(invitation.orgId, invitation.emailNormalized),
    type: 'PendingInvitationGuard',
    invitationId: invitation.id,
    expiresAt,
    [tableSchema.ttlAttribute]: expiresAt,
  };
}

/** An entry of the pending-email index (GSI2), which projects just these attributes. */
export function fromPendingEmailItem(item: Item): PendingEmail {
  return { orgId: item.orgId as number, invitationId: item.id as string, deliverySeq: item.deliverySeq as number };
}

/**
 * The stored event: in its subject's partition, kept `retentionSeconds` (TTL). `type` is the
 * item kind, as on every item; the event's own type is `eventType`. The stream hands INSERTs of
 * these items to EventBridge (shared/deployment/event-publishing.ts).
 */
export function toEventItem(event: ServiceEvent, retentionSeconds: number): Item {
  const PK = event.invitationId !== undefined
    ? keys.invitationEvents(event.orgId, event.invitationId)
    : keys.memberEvents(event.orgId, String(event.changes.userId));
  return {
    PK,
    SK: keys.eventSortKey(event.time, event.id),
    type: 'Event',
    eventId: event.id,
    eventType: event.type,
    time: event.time,
    orgId: event.orgId,
    orgName: event.orgName,
    ...(event.invitationId !== undefined && { invitationId: event.invitationId }),
    actor: event.actor,
    changes: event.changes,
    [tableSchema.ttlAttribute]: Math.floor(Date.parse(event.time) / 1000) + retentionSeconds,
  };
}

export function fromEventItem(item: Item): ServiceEvent {
  return {
    id: item.eventId as string,
    type: item.eventType as ServiceEvent['type'],
    time: item.time as string,
    orgId: item.orgId as number,
    orgName: item.orgName as string,
    ...(item.invitationId !== undefined && { invitationId: item.invitationId as string }),
    actor: item.actor as string,
    changes: (item.changes ?? {}) as ServiceEvent['changes'],
  };
}

/**
 * The transaction item that records an event: a Put that fails if the event is already
 * recorded, so a change repeated by mistake cannot record its event twice.
 */
export function putEvent(tableName: string, event: ServiceEvent, retentionSeconds: number) {
  return {
    Put: { TableName: tableName, Item: toEventItem(event, retentionSeconds), ConditionExpression: 'attribute_not_exists(PK)' },
  };
}
