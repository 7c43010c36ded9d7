/** Key builders for the single table (see shared/deployment/table-schema.ts for the item catalogue; items.ts for the items). */
import { PENDING_EMAIL_SHARDS, shardOf } from '../../domain/sharding.ts';

export const keys = {
  organization: (orgId: number) => ({ PK: `ORG#${orgId}`, SK: 'ORG' }),
  membership: (orgId: number, userId: string) => ({ PK: `ORG#${orgId}`, SK: `ORG#MEMBER#${userId}` }),
  invitation: (orgId: number, invitationId: string) => ({ PK: `ORG#${orgId}`, SK: `INV#${invitationId}` }),
  pendingGuard: (orgId: number, emailNormalized: string) => ({ PK: `ORG#${orgId}`, SK: `GUARD#${emailNormalized}` }),
  organizationName: (name: string) => ({ PK: `ORGNAME#${name}`, SK: 'ORGNAME' }),
  organizationIdCounter: () => ({ PK: 'COUNTER', SK: 'ORGID' }),
  rateLimitWindow: (action: string, userId: string, windowIndex: number) => ({
    PK: `RATE#${action}#${userId}`,
    SK: String(windowIndex),
  }),
  /** Idempotency records are scoped to the caller: the same key from two users never collides. */
  idempotency: (scope: string, key: string) => ({ PK: `IDEMP#${scope}`, SK: key }),
  /** LSI1 sort key: ISO timestamps sort chronologically as strings. */
  invitationCreatedSortKey: (createdAt: string, invitationId: string) => `INV#${createdAt}#${invitationId}`,
  userOrganizations: (userId: string) => ({ GSI1PK: `USER#${userId}` }),
  userOrganizationSortKey: (orgId: number) => `ORG#${orgId}`,
  orgPartition: (orgId: number) => `ORG#${orgId}`,
  /** The organization id of an ORG#<id> partition key. */
  orgIdOfPartition: (pk: string) => Number(pk.slice('ORG#'.length)),
  /**
   * Events: an invitation's trail in a partition of its own (read oldest first by the audit
   * endpoint); member events no invitation caused, in the member's. Small partitions, so no hot
   * key, and none in the organization's partition (whose item collection LSI1 caps at 10 GB).
   */
  invitationEvents: (orgId: number, invitationId: string) => `EVENTS#ORG#${orgId}#INV#${invitationId}`,
  memberEvents: (orgId: number, userId: string) => `EVENTS#ORG#${orgId}#MEMBER#${userId}`,
  /** Chronological within a partition; the id breaks ties and makes the key the event's. */
  eventSortKey: (time: string, eventId: string) => `${time}#${eventId}`,
  /**
   * GSI2: present only while an invitation's email is pending, in the invitation's shard
   * (shared/domain/sharding.ts), oldest request first within it.
   */
  pendingEmail: (invitationId: string, requestedAt: string) => ({
    GSI2PK: keys.pendingEmailPartition(shardOf(invitationId, PENDING_EMAIL_SHARDS)),
    GSI2SK: requestedAt,
  }),
  pendingEmailPartition: (shard: number) => `EMAIL#PENDING#${shard}`,
  /** The one partition of GSI2 before it was sharded: entries written then are still swept. */
  legacyPendingEmailPartition: 'EMAIL#PENDING',
  /** GSI3 partition: one invitee address's invitations, present only while they are PENDING. */
  inviteeInvitations: (emailNormalized: string) => ({ GSI3PK: `INVITEE#${emailNormalized}` }),
  /** GSI3 sort key: newest first by creation (ISO timestamps sort as strings), the id breaking ties. */
  inviteeInvitationSortKey: (createdAt: string, invitationId: string) => `${createdAt}#${invitationId}`,
  /**
   * GSI4: a pending invitation's next deadline (domain/timers.ts), in its shard. The sort key
   * starts with the deadline in epoch seconds, zero-padded so that it sorts as a number: a
   * shard's due entries are the ones `<= timerSortKeyBound(now)`.
   */
  timer: (shard: number, deadline: number, invitationId: string) => ({
    GSI4PK: `TIMER#${shard}`,
    GSI4SK: `${String(deadline).padStart(12, '0')}#${invitationId}`,
  }),
  timerPartition: (shard: number) => `TIMER#${shard}`,
  /** Sorts after every entry whose deadline is at or before `epochSeconds` ('$' > '#'). */
  timerSortKeyBound: (epochSeconds: number) => `${String(Math.floor(epochSeconds)).padStart(12, '0')}$`,
  /** The deadline an entry's sort key holds. */
  timerDeadline: (sortKey: string) => Number(sortKey.slice(0, sortKey.indexOf('#'))),
};
