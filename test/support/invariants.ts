/**
 * Invariants of an organization's partition that must hold after any sequence of requests,
 * whatever raced or failed: read straight from the table (strongly consistent).
 *
 * - every pending guard names an existing PENDING invitation of the same address, with the
 *   same expiry (never a guard without its invitation);
 * - every live PENDING invitation is the one its address's guard names (never an invitation
 *   without its guard), so at most one live invitation per address;
 * - every ACCEPTED invitation has its invitee's membership, unless the member was removed after
 *   accepting (an `organization.member.removed` event of that user, in the table, no earlier than
 *   the acceptance: the accepted invitation stays as history); every MEMBER membership has an
 *   ACCEPTED invitation of that user (never one without the other);
 * - pending invitations carry the TTL `expiresAt + retention`; answered ones
 *   `respondedAt + answered retention` (epoch seconds).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import type { TestStack } from './stack.ts';
import { storedGuards, storedInvitations, storedMemberships } from './table.ts';

type StoredItem = Record<string, any>;

export interface PartitionState {
  readonly invitations: StoredItem[];
  readonly guards: StoredItem[];
  readonly memberships: StoredItem[];
  /** When each user who accepted an invitation was removed from the organization (event times, ISO). */
  readonly removals?: ReadonlyMap<string, readonly string[]>;
}

export async function partitionState(stack: TestStack, orgId: number): Promise<PartitionState> {
  const [invitations, guards, memberships] = await Promise.all([
    storedInvitations(stack, orgId),
    storedGuards(stack, orgId),
    storedMemberships(stack, orgId),
  ]);
  const accepters = new Set(invitations.filter((i) => i.status === 'ACCEPTED').map((i) => i.userId as string));
  const removals = new Map(await Promise.all([...accepters].map(async (userId) => [userId, await removalTimes(stack, orgId, userId)] as const)));
  return { invitations, guards, memberships, removals };
}

/** The times of a user's `organization.member.removed` events in the organization (their events partition). */
async function removalTimes(stack: TestStack, orgId: number, userId: string): Promise<string[]> {
  const times: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.db.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.memberEvents(orgId, userId) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) if (item.eventType === 'organization.member.removed') times.push(item.time as string);
    start = page.LastEvaluatedKey;
  } while (start);
  return times;
}

/** The problems found (empty when consistent), so a failure lists all of them at once. */
export function partitionProblems(
  state: PartitionState,
  options: { nowSeconds?: number; retentionSeconds?: number; answeredRetentionSeconds?: number } = {},
): string[] {
  const now = options.nowSeconds ?? Date.now() / 1000;
  const problems: string[] = [];
  const byId = new Map(state.invitations.map((item) => [item.id as string, item]));

  for (const guard of state.guards) {
    const email = String(guard.SK).slice('GUARD#'.length);
    const invitation = byId.get(guard.invitationId);
    if (!invitation) problems.push(`guard ${email} names invitation ${guard.invitationId}, which does not exist`);
    else {
      if (invitation.status !== 'PENDING') problems.push(`guard ${email} names ${invitation.id}, which is ${invitation.status}`);
      if (invitation.emailNormalized !== email) problems.push(`guard ${email} names ${invitation.id} of ${invitation.emailNormalized}`);
      if (invitation.expiresAt !== guard.expiresAt) {
        problems.push(`guard ${email} expires at ${guard.expiresAt}, its invitation ${invitation.id} at ${invitation.expiresAt}`);
      }
    }
  }

  const liveByEmail = new Map<string, StoredItem[]>();
  for (const invitation of state.invitations) {
    if (invitation.status === 'PENDING' && invitation.expiresAt > now) {
      liveByEmail.set(invitation.emailNormalized, [...(liveByEmail.get(invitation.emailNormalized) ?? []), invitation]);
      const guard = state.guards.find((g) => g.SK === `GUARD#${invitation.emailNormalized}`);
      if (!guard) problems.push(`live invitation ${invitation.id} (${invitation.emailNormalized}) has no guard`);
      else if (guard.invitationId !== invitation.id) {
        problems.push(`live invitation ${invitation.id} (${invitation.emailNormalized}): its guard names ${guard.invitationId}`);
      }
    }
    if (invitation.status === 'PENDING') {
      if (typeof invitation.ttl !== 'number') problems.push(`pending invitation ${invitation.id} has no numeric ttl`);
      else if (options.retentionSeconds !== undefined && invitation.ttl !== invitation.expiresAt + options.retentionSeconds) {
        problems.push(`pending invitation ${invitation.id}: ttl ${invitation.ttl} ≠ expiresAt ${invitation.expiresAt} + ${options.retentionSeconds}`);
      }
    } else if (typeof invitation.ttl !== 'number') {
      problems.push(`${invitation.status} invitation ${invitation.id} has no numeric ttl`);
    } else if (options.answeredRetentionSeconds !== undefined) {
      const expected = Math.floor(Date.parse(invitation.respondedAt) / 1000) + options.answeredRetentionSeconds;
      if (invitation.ttl !== expected) {
        problems.push(`${invitation.status} invitation ${invitation.id}: ttl ${invitation.ttl} ≠ respondedAt + ${options.answeredRetentionSeconds}`);
      }
    }
    if (invitation.status === 'ACCEPTED') {
      const members = state.memberships.filter((m) => m.userId === invitation.userId);
      const removedSince = (state.removals?.get(invitation.userId) ?? []).some((time) => time >= invitation.respondedAt);
      if (members.length > 1 || (members.length === 0 && !removedSince)) {
        problems.push(`ACCEPTED invitation ${invitation.id} of user ${invitation.userId}: ${members.length} memberships`);
      }
    }
  }
  for (const [email, live] of liveByEmail) {
    if (live.length > 1) problems.push(`${live.length} live invitations for ${email}: ${live.map((i) => i.id).join(', ')}`);
  }

  for (const membership of state.memberships) {
    if (membership.associationType === 'ADMIN') continue; // creators and directly stored admins
    const accepted = state.invitations.filter((i) => i.status === 'ACCEPTED' && i.userId === membership.userId);
    if (accepted.length === 0) problems.push(`MEMBER ${membership.userId} has no ACCEPTED invitation`);
  }
  return problems;
}

/** Reads the partition and fails with every invariant it breaks. Returns the state read. */
export async function expectConsistentOrganization(
  stack: TestStack,
  orgId: number,
  options: { retentionSeconds?: number; answeredRetentionSeconds?: number } = {},
): Promise<PartitionState> {
  const state = await partitionState(stack, orgId);
  expect(partitionProblems(state, options), `invariants of organization ${orgId}`).toEqual([]);
  return state;
}
