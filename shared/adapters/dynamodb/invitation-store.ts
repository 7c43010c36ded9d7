import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { tableSchema } from '../../deployment/table-schema.ts';
import { invalidInput } from '../../domain/errors.ts';
import { normalizeEmail } from '../../domain/email.ts';
import type { AdminAuthority } from '../../domain/access.ts';
import type { Caller } from '../../domain/caller.ts';
import type { AssociationType } from '../../domain/organization.ts';
import {
  answeredInvitationTtl,
  invitationTtl,
  isGuardLive,
  isLive,
  isPastRetention,
  matchesStatusFilter,
  revokedInvitationTtl,
  type Invitation,
  type InvitationTimings,
} from '../../domain/invitation.ts';
import type {
  Clock,
  CreateInvitationsResult,
  InvitationListQuery,
  InvitationPage,
  InvitationStore,
  InviteeInvitationQuery,
} from '../../ports.ts';
import { systemClock } from '../system.ts';
import { invitationAnswered, invitationCreated, invitationResent, invitationRevoked, memberAddedByInvitation } from '../../domain/invitation-events.ts';
import {
  accessFrom,
  findItem,
  fromInvitationItem,
  putEvent,
  timerKeys,
  toInvitationItem,
  toMembershipItem,
  toPendingGuardItem,
  type Item,
} from './items.ts';
import { keys } from './keys.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './cursors.ts';
import { batchGet, call, serviceBusy, transactWrite, transactWriteAsAdmin } from './operations.ts';

const MAX_CREATE_ATTEMPTS = 3;
/** Guard, invitation, event: the guard first (its index tells which address was blocked). */
const ITEMS_PER_INVITATION = 3;

/**
 * Items one list request reads at most, whatever its filter: 1,000 invitation items are about
 * 0.5 MB (measured ~125 read units, strongly consistent, i.e. ~500 bytes each), so one Query
 * call under DynamoDB's 1 MB per call and tens of milliseconds; ten times the largest page, so
 * a filter that matches one invitation in ten still fills a page of 100.
 */
export const MAX_ITEMS_READ_PER_LIST = 1000;

/**
 * The page a request without `limit` gets (the Jaqpot client expects a plain array and cannot
 * page): the newest 1,000, about 0.3 MB of JSON (measured ~290 bytes per invitation; even at
 * the longest addresses and names, a few KB each, it stays far below Lambda's 6 MB response
 * limit), and within the read bound; X-Next-Cursor says when more exist.
 */
export const UNPAGED_LIST_MAXIMUM = 1000;

/** Each further Query of one list request reads up to this many times the previous one. */
const READ_GROWTH = 10;

export class DynamoInvitationStore implements InvitationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly timings: InvitationTimings,
    /** How long the events these changes record are kept (EVENT_RETENTION_SECONDS). */
    private readonly eventRetentionSeconds: number,
    private readonly clock: Clock = systemClock,
  ) {}

  async get(orgId: number, invitationId: string): Promise<Invitation | undefined> {
    const { Item } = await call(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.invitation(orgId, invitationId), ConsistentRead: true }),
      ),
    );
    return this.retained(Item, this.clock.nowMs());
  }

  /**
   * The invitation of a stored item, unless its TTL has passed (then it is gone, deleted or not)
   * or it was revoked (kept as history, but gone for every Jaqpot view).
   */
  private retained(item: Item | undefined, nowMs: number): Invitation | undefined {
    if (!item || isPastRetention(item[tableSchema.ttlAttribute] as number | undefined, nowMs)) return undefined;
    return this.currentFrom(item);
  }

  async getWithAccess(orgId: number, invitationId: string, userId: string) {
    const items = await batchGet(this.client, this.tableName, [
      keys.invitation(orgId, invitationId),
      keys.organization(orgId),
      keys.membership(orgId, userId),
    ]);
    return {
      invitation: this.retained(findItem(items, keys.invitation(orgId, invitationId)), this.clock.nowMs()),
      access: accessFrom(items, orgId, userId),
    };
  }

  /**
   * Which of these addresses are held by a live pending invitation: their guards, in one
   * BatchGetItem (at most 10 keys; a guard whose expiresAt has passed holds nothing). Writes nothing.
   */
  async findInvited(orgId: number, emailsNormalized: readonly string[], nowMs: number): Promise<Set<string>> {
    if (emailsNormalized.length === 0) return new Set();
    const items = await batchGet(this.client, this.tableName, emailsNormalized.map((email) => keys.pendingGuard(orgId, email)));
    return new Set(
      emailsNormalized.filter((email) => {
        const guard = findItem(items, keys.pendingGuard(orgId, email));
        return guard !== undefined && isGuardLive({ expiresAt: guard.expiresAt as number }, nowMs);
      }),
    );
  }

  /**
   * One transaction per attempt: for every address, the invitation, its guard item GUARD#<email>
   * and its `invitation.created` event (3 items per address: MAX_EMAILS_PER_REQUEST = 10 is 30
   * of a transaction's 100). The guard's condition (absent, or held by an expired invitation) is what makes
   * "one live invitation per email per org" hold under concurrent requests. Addresses whose
   * guard condition fails are dropped and the rest retried, so the number of calls does not
   * depend on the number of addresses. The admin's authority check, when one is needed, makes
   * 2 items per address + 1: 21 for the 10 addresses a request may have, far below the 100
   * items a transaction may hold.
   */
  async createMany(invitations: Invitation[], nowMs: number, authority: AdminAuthority): Promise<CreateInvitationsResult> {
    let remaining = invitations;
    const alreadyInvited: string[] = [];
    for (let attempt = 1; remaining.length > 0; attempt++) {
      const result = await transactWriteAsAdmin(
        this.client,
        this.tableName,
        authority,
        remaining.flatMap((invitation) => [
          {
            Put: {
              TableName: this.tableName,
              Item: toPendingGuardItem(invitation, invitation.expiresAt),
              ConditionExpression: 'attribute_not_exists(PK) OR expiresAt <= :now',
              ExpressionAttributeValues: { ':now': nowMs / 1000 },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: toInvitationItem(invitation, this.timings),
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          putEvent(this.tableName, invitationCreated(invitation, nowMs), this.eventRetentionSeconds),
        ]),
      );
      if (result.ok) return { created: remaining, alreadyInvited };
      const blocked = new Set(
        result.reasons.flatMap((reason, index) =>
          reason.Code === 'ConditionalCheckFailed' && index % ITEMS_PER_INVITATION === 0
            ? [remaining[index / ITEMS_PER_INVITATION]!.emailNormalized]
            : [],
        ),
      );
      // Only the guards can fail (invitation ids are fresh UUIDs); anything else is a bug.
      if (blocked.size === 0 || attempt >= MAX_CREATE_ATTEMPTS) throw serviceBusy();
      alreadyInvited.push(...blocked);
      remaining = remaining.filter((invitation) => !blocked.has(invitation.emailNormalized));
    }
    return { created: [], alreadyInvited };
  }

  /**
   * Newest first via LSI1 (strongly consistent). The status filter depends on the clock (EXPIRED
   * vs PENDING), so it and the others (emailStatus, email compared normalized, invitedBy) are
   * applied here rather than in a FilterExpression. One request reads at
   * most MAX_ITEMS_READ_PER_LIST items: the first Query reads one item beyond the page (so that
   * without a filter a cursor is returned only when another page really exists), each further one
   * up to READ_GROWTH times more. A filter may leave the page short once the bound is reached:
   * then the page holds what matched and the cursor points after the last item read, as
   * DynamoDB's own Limit + FilterExpression does; the next page may even be empty.
   */
  async list(orgId: number, query: InvitationListQuery): Promise<InvitationPage> {
    const pageSize = query.limit ?? UNPAGED_LIST_MAXIMUM;
    const email = query.email === undefined ? undefined : normalizeEmail(query.email);
    const wanted = (invitation: Invitation) =>
      (query.status === undefined || matchesStatusFilter(invitation, query.status, query.nowMs)) &&
      (query.emailStatus === undefined || invitation.emailStatus === query.emailStatus) &&
      (email === undefined || invitation.emailNormalized === email) &&
      (query.invitedBy === undefined || invitation.invitedBy === query.invitedBy);
    const matches: Invitation[] = [];
    let read = 0;
    let chunk = pageSize + 1;
    let startKey = query.cursor === undefined ? undefined : decodeListCursor(query.cursor, orgId);
    while (matches.length <= pageSize && read < MAX_ITEMS_READ_PER_LIST) {
      const limit = Math.min(chunk, MAX_ITEMS_READ_PER_LIST - read);
      const page = await call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: tableSchema.invitationsByCreatedIndex.name,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.orgPartition(orgId) },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: limit,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      const items = page.Items ?? [];
      read += items.length;
      for (const item of items) {
        const invitation = this.retained(item, query.nowMs);
        if (invitation && wanted(invitation)) matches.push(invitation);
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey || items.length === 0) break;
      chunk = limit * READ_GROWTH;
    }
    if (matches.length > pageSize) {
      const items = matches.slice(0, pageSize);
      const last = items[items.length - 1]!;
      return { items, nextCursor: encodeListCursor(orgId, keys.invitation(orgId, last.id).SK, keys.invitationCreatedSortKey(last.createdAt, last.id)) };
    }
    if (!startKey) return { items: matches, nextCursor: undefined };
    const lsiSortKey = startKey[tableSchema.invitationsByCreatedIndex.sortKey] as string;
    return { items: matches, nextCursor: encodeListCursor(orgId, startKey.SK as string, lsiSortKey) };
  }

  /**
   * "My invitations" via GSI3 (sparse: PENDING invitations only; eventually consistent, as every
   * GSI read). One Query of up to limit + 1 entries, newest first: expired ones are dropped by the
   * FilterExpression (and checked again here: TTL deletes late), so a page may be short, or even
   * empty, and still carry a cursor, as the organization list's does. Then one BatchGetItem of the
   * page's distinct organizations (at most 100: one call) for their current names.
   */
  async listForInvitee(emailNormalized: string, query: InviteeInvitationQuery): Promise<InvitationPage> {
    const index = tableSchema.inviteeInvitationsIndex;
    const page = await call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeNames: { '#pk': index.partitionKey },
          ExpressionAttributeValues: { ':pk': keys.inviteeInvitations(emailNormalized).GSI3PK, ':now': query.nowMs / 1000 },
          ScanIndexForward: false,
          Limit: query.limit + 1,
          ExclusiveStartKey: query.cursor === undefined ? undefined : decodeInviteeCursor(query.cursor, emailNormalized),
        }),
      ),
    );
    const live = (page.Items ?? [])
      .map(fromInvitationItem)
      .filter((invitation) => isLive(invitation, query.nowMs) && invitation.emailNormalized === emailNormalized);
    const onPage = live.slice(0, query.limit);
    const last = onPage[onPage.length - 1];
    const nextCursor =
      live.length > query.limit && last
        ? encodeInviteeCursor(emailNormalized, last.orgId, keys.inviteeInvitationSortKey(last.createdAt, last.id))
        : page.LastEvaluatedKey
          ? encodeInviteeCursor(
              emailNormalized,
              keys.orgIdOfPartition(page.LastEvaluatedKey.PK as string),
              page.LastEvaluatedKey[index.sortKey] as string,
            )
          : undefined;
    if (onPage.length === 0) return { items: [], nextCursor };
    const orgIds = [...new Set(onPage.map((invitation) => invitation.orgId))];
    const orgItems = await batchGet(this.client, this.tableName, orgIds.map((orgId) => keys.organization(orgId)));
    const items = onPage.map((invitation) => {
      const orgItem = findItem(orgItems, keys.organization(invitation.orgId));
      return orgItem ? { ...invitation, orgName: orgItem.name as string } : invitation;
    });
    return { items, nextCursor };
  }

  async answer(invitation: Invitation, answer: { status: 'ACCEPTED' | 'REJECTED'; caller: Caller }, nowMs: number) {
    const respondedAt = new Date(nowMs).toISOString();
    const updated: Invitation = { ...invitation, status: answer.status, userId: answer.caller.userId, respondedAt };
    const { caller } = answer;
    const result = await transactWrite(this.client, [
      {
        Update: {
          TableName: this.tableName,
          Key: keys.invitation(invitation.orgId, invitation.id),
          // Answered invitations stay as the organization's history for the answered retention;
          // they leave the invitee's index (GSI3: pending only) and the timer index (GSI4: an
          // answered invitation neither expires nor is reminded).
          UpdateExpression:
            'SET #status = :status, userId = :userId, respondedAt = :respondedAt, #ttl = :ttl REMOVE GSI3PK, GSI3SK, GSI4PK, GSI4SK',
          ConditionExpression: '#status = :pending AND expiresAt > :now AND emailNormalized = :email',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': tableSchema.ttlAttribute },
          ExpressionAttributeValues: {
            ':status': answer.status,
            ':userId': caller.userId,
            ':respondedAt': respondedAt,
            ':ttl': answeredInvitationTtl(nowMs, this.timings),
            ':pending': 'PENDING',
            ':now': nowMs / 1000,
            ':email': invitation.emailNormalized,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        // Frees the address for a future invitation.
        Delete: {
          TableName: this.tableName,
          Key: keys.pendingGuard(invitation.orgId, invitation.emailNormalized),
          ConditionExpression: 'attribute_not_exists(PK) OR invitationId = :id',
          ExpressionAttributeValues: { ':id': invitation.id },
        },
      },
      ...(answer.status === 'ACCEPTED' ? [this.addMember(invitation.orgId, caller, invitation.associationType)] : []),
      putEvent(this.tableName, invitationAnswered(invitation, answer.status, caller.userId, nowMs), this.eventRetentionSeconds),
      ...(answer.status === 'ACCEPTED'
        ? [
            putEvent(
              this.tableName,
              memberAddedByInvitation(invitation, { userId: caller.userId, associationType: invitation.associationType }, nowMs),
              this.eventRetentionSeconds,
            ),
          ]
        : []),
    ]);
    if (result.ok) return { ok: true as const, invitation: updated };
    return { ok: false as const, current: this.currentFrom(result.reasons[0]?.Item) };
  }

  /**
   * A resend is a new email request: the next delivery sequence number, emailStatus PENDING and
   * back in the pending-email index. The stream then hands it to the delivery function.
   */
  async resend(invitation: Invitation, change: { expiresAt: number; requestedAt: string }, caller: Caller, nowMs: number, authority: AdminAuthority) {
    const updated: Invitation = {
      ...invitation,
      expiresAt: change.expiresAt,
      emailRequestedAt: change.requestedAt,
      emailStatus: 'PENDING',
      deliverySeq: invitation.deliverySeq + 1,
      lastError: undefined,
      emailKind: undefined,
      remindedFor: undefined,
    };
    const pending = keys.pendingEmail(invitation.id, change.requestedAt);
    // A new lifetime: its own reminder and expiry deadlines (the timer index, GSI4).
    const timer = timerKeys(updated, this.timings)!;
    const result = await transactWriteAsAdmin(this.client, this.tableName, authority, [
      {
        Update: {
          TableName: this.tableName,
          Key: keys.invitation(invitation.orgId, invitation.id),
          UpdateExpression:
            'SET expiresAt = :expiresAt, #ttl = :ttl, emailRequestedAt = :requestedAt, emailStatus = :pending, ' +
            'GSI2PK = :gsi2pk, GSI2SK = :gsi2sk, GSI4PK = :gsi4pk, GSI4SK = :gsi4sk ADD deliverySeq :one ' +
            'REMOVE lastError, emailKind, remindedFor',
          ConditionExpression: '#status = :pending AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': tableSchema.ttlAttribute },
          ExpressionAttributeValues: {
            ':expiresAt': change.expiresAt,
            ':ttl': invitationTtl(change.expiresAt, this.timings),
            ':requestedAt': change.requestedAt,
            ':gsi2pk': pending.GSI2PK,
            ':gsi2sk': pending.GSI2SK,
            ':gsi4pk': timer.GSI4PK,
            ':gsi4sk': timer.GSI4SK,
            ':one': 1,
            ':pending': 'PENDING',
            ':now': nowMs / 1000,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: toPendingGuardItem(invitation, change.expiresAt),
          ConditionExpression: 'attribute_not_exists(PK) OR invitationId = :id',
          ExpressionAttributeValues: { ':id': invitation.id },
        },
      },
      putEvent(this.tableName, invitationResent(updated, caller.userId, nowMs), this.eventRetentionSeconds),
    ]);
    if (result.ok) return { ok: true as const, invitation: updated };
    return { ok: false as const, current: this.currentFrom(result.reasons[0]?.Item) };
  }

  /**
   * Withdraws a pending invitation (live or expired): it becomes REVOKED, kept invisibly as
   * history until revocation + the answered retention, and its pending guard is released in the
   * same transaction, so the address can be invited again at once. An email not yet sent is
   * left PENDING on purpose: the delivery (stream or sweep) then records it NOT_NEEDED.
   *
   * The guard may already belong to a newer invitation of the same address (one created after
   * this one expired): then there is nothing to release, and the invitation is revoked alone.
   */
  async revoke(invitation: Invitation, caller: Caller, nowMs: number, authority: AdminAuthority) {
    const revokedAt = new Date(nowMs).toISOString();
    const revoke = {
      Update: {
        TableName: this.tableName,
        Key: keys.invitation(invitation.orgId, invitation.id),
        // Out of the invitee's index (GSI3: pending only) and the timer index (GSI4).
        UpdateExpression:
          'SET #status = :revoked, revokedAt = :revokedAt, revokedBy = :revokedBy, #ttl = :ttl REMOVE GSI3PK, GSI3SK, GSI4PK, GSI4SK',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status', '#ttl': tableSchema.ttlAttribute },
        ExpressionAttributeValues: {
          ':revoked': 'REVOKED',
          ':revokedAt': revokedAt,
          ':revokedBy': caller.userId,
          ':ttl': revokedInvitationTtl(nowMs, this.timings),
          ':pending': 'PENDING',
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
    const releaseGuard = {
      Delete: {
        TableName: this.tableName,
        Key: keys.pendingGuard(invitation.orgId, invitation.emailNormalized),
        ConditionExpression: 'attribute_not_exists(PK) OR invitationId = :id',
        ExpressionAttributeValues: { ':id': invitation.id },
      },
    };
    const event = putEvent(this.tableName, invitationRevoked(invitation, caller.userId, nowMs), this.eventRetentionSeconds);
    let result = await transactWriteAsAdmin(this.client, this.tableName, authority, [revoke, releaseGuard, event]);
    const guardHeldByAnother = (reasons: { Code?: string }[]) =>
      reasons[0]?.Code !== 'ConditionalCheckFailed' && reasons[1]?.Code === 'ConditionalCheckFailed';
    if (!result.ok && guardHeldByAnother(result.reasons)) {
      result = await transactWriteAsAdmin(this.client, this.tableName, authority, [revoke, event]);
    }
    if (result.ok) return { ok: true as const };
    return { ok: false as const, current: this.currentFrom(result.reasons[0]?.Item) };
  }

  /**
   * Upsert of the membership the invitation grants: every field only if absent, so an existing
   * membership keeps what it has, except that an ADMIN invitation makes the member ADMIN (an
   * upgrade the inviting admin asked for and the invitee accepted). Never a downgrade: a MEMBER
   * invitation leaves an existing ADMIN as is.
   */
  private addMember(orgId: number, caller: Caller, associationType: AssociationType) {
    const item = toMembershipItem({
      orgId,
      userId: caller.userId,
      username: caller.username,
      email: caller.email,
      associationType,
    });
    const fields = Object.entries(item).filter(([name, value]) => name !== 'PK' && name !== 'SK' && value !== undefined);
    const assignment = (name: string, i: number) =>
      name === 'associationType' && associationType === 'ADMIN' ? `#f${i} = :v${i}` : `#f${i} = if_not_exists(#f${i}, :v${i})`;
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.membership(orgId, caller.userId),
        UpdateExpression: `SET ${fields.map(([name], i) => assignment(name, i)).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
      },
    };
  }

  /** The invitation a stored item holds, as the Jaqpot views know it: a revoked one is gone. */
  private currentFrom(item: Record<string, unknown> | undefined): Invitation | undefined {
    if (!item || item.status === 'REVOKED') return undefined;
    return fromInvitationItem(item);
  }
}

/**
 * Cursors are opaque to clients: base64url of the organization id and the LSI position. They are
 * validated strictly on the way back so that a cursor from another organization, or a forged
 * one, is a 400 rather than a read of someone else's partition.
 */
function encodeListCursor(orgId: number, sortKey: string, lsiSortKey: string): string {
  return encodeCursor({ o: orgId, s: sortKey, l: lsiSortKey });
}

function decodeListCursor(cursor: string, orgId: number): Item {
  const { o, s, l } = decodeCursor(cursor);
  if (typeof s !== 'string' || typeof l !== 'string' || !s.startsWith('INV#') || !l.startsWith('INV#')) throw invalidCursor();
  if (o !== orgId) throw invalidInput('cursor belongs to another organization.');
  return { PK: keys.orgPartition(orgId), SK: s, [tableSchema.invitationsByCreatedIndex.sortKey]: l };
}

/**
 * "My invitations" cursors: base64url of a digest of the invitee's address (never the address
 * itself), the organization id and the GSI3 position. The digest makes a cursor issued for
 * another address a 400; the Query's partition is always built from the caller's own address,
 * so no cursor can read anyone else's invitations anyway. Forged ones are a 400 too.
 */
function encodeInviteeCursor(emailNormalized: string, orgId: number, sortKey: string): string {
  return encodeCursor({ a: addressDigest(emailNormalized), o: orgId, s: sortKey });
}

const INVITEE_SORT_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function decodeInviteeCursor(cursor: string, emailNormalized: string): Item {
  const { a, o, s } = decodeCursor(cursor);
  const position = typeof s === 'string' ? INVITEE_SORT_KEY.exec(s) : null;
  if (typeof a !== 'string' || typeof o !== 'number' || !Number.isSafeInteger(o) || o < 1 || !position) throw invalidCursor();
  if (a !== addressDigest(emailNormalized)) throw invalidInput('cursor belongs to another user.');
  const index = tableSchema.inviteeInvitationsIndex;
  return {
    ...keys.invitation(o, position[2]!),
    ...keys.inviteeInvitations(emailNormalized),
    [index.sortKey]: s,
  };
}

function addressDigest(emailNormalized: string): string {
  return createHash('sha256').update(emailNormalized).digest('base64url').slice(0, 22);
}
