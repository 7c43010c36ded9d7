/**
 * Direct table access for integration tests: reads for assertions on stored state (always
 * consistent), and the few writes the API cannot make (an ADMIN member who is not the creator,
 * an expiry moved in time).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { toMembershipItem } from '../../shared/adapters/dynamodb/items.ts';
import { timerShard } from '../../shared/domain/timers.ts';
import type { TestUser } from './fixtures.ts';
import type { TestStack } from './stack.ts';

type Key = { PK: string; SK: string };
type StoredItem = Record<string, any>;

/** The item under `key`, or undefined. */
export async function storedItem(stack: TestStack, key: Key): Promise<StoredItem | undefined> {
  const { Item } = await stack.db.send(new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }));
  return Item;
}

export const storedInvitation = (stack: TestStack, orgId: number, invitationId: string) =>
  storedItem(stack, keys.invitation(orgId, invitationId));

export const storedMembership = (stack: TestStack, orgId: number, userId: string) =>
  storedItem(stack, keys.membership(orgId, userId));

/** The pending guard of an address; `email` is lower-cased, as the service normalizes it. */
export const storedGuard = (stack: TestStack, orgId: number, email: string) =>
  storedItem(stack, keys.pendingGuard(orgId, email.toLowerCase()));

/**
 * The items of the organization's partition whose sort key starts with `skPrefix`, optionally
 * only those whose attributes equal every value of `where`.
 */
async function storedItemsInOrganization(
  stack: TestStack,
  orgId: number,
  skPrefix: string,
  where: Record<string, unknown> = {},
): Promise<StoredItem[]> {
  const filters = Object.keys(where).map((name, i) => ({ name, placeholder: `#f${i}`, value: `:f${i}` }));
  const { Items } = await stack.db.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ...(filters.length > 0 && {
        FilterExpression: filters.map((f) => `${f.placeholder} = ${f.value}`).join(' AND '),
        ExpressionAttributeNames: Object.fromEntries(filters.map((f) => [f.placeholder, f.name])),
      }),
      ExpressionAttributeValues: {
        ':pk': keys.orgPartition(orgId),
        ':prefix': skPrefix,
        ...Object.fromEntries(filters.map((f) => [f.value, where[f.name]])),
      },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** Every invitation item of the organization, or those matching `where` (e.g. `{ emailNormalized }`). */
export const storedInvitations = (stack: TestStack, orgId: number, where?: Record<string, unknown>) =>
  storedItemsInOrganization(stack, orgId, 'INV#', where);

/** Every pending guard item of the organization. */
export const storedGuards = (stack: TestStack, orgId: number) => storedItemsInOrganization(stack, orgId, 'GUARD#');

/** Every membership item of the organization, or those matching `where` (e.g. `{ userId }`). */
export const storedMemberships = (stack: TestStack, orgId: number, where?: Record<string, unknown>) =>
  storedItemsInOrganization(stack, orgId, 'ORG#MEMBER#', where);

/**
 * Makes `member` an ADMIN member who is not the creator. The API has no promotion route, so the
 * membership is stored directly.
 */
export async function addAdminMember(stack: TestStack, orgId: number, member: TestUser, username?: string) {
  await stack.db.send(
    new PutCommand({
      TableName: stack.tableName,
      Item: toMembershipItem({
        orgId,
        userId: member.sub,
        email: member.email,
        ...(username !== undefined && { username }),
        associationType: 'ADMIN',
      }),
    }),
  );
}

/**
 * Sets an invitation's expiry (epoch seconds) and its pending guard's, which always shares it.
 * The guard must still name the invitation.
 */
export async function setInvitationExpiry(stack: TestStack, orgId: number, invitationId: string, expiresAt: number) {
  const { Attributes } = await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: 'SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':expiresAt': expiresAt },
      ReturnValues: 'ALL_NEW',
    }),
  );
  // Its timer entry (if any) now waits for the moved expiry, as if the reminder were behind it.
  if (Attributes!.GSI4PK !== undefined) {
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.invitation(orgId, invitationId),
        UpdateExpression: 'SET GSI4SK = :sk',
        ExpressionAttributeValues: { ':sk': keys.timer(timerShard(invitationId), expiresAt, invitationId).GSI4SK },
      }),
    );
  }
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.pendingGuard(orgId, Attributes!.emailNormalized as string),
      UpdateExpression: 'SET expiresAt = :expiresAt',
      ConditionExpression: 'invitationId = :id',
      ExpressionAttributeValues: { ':expiresAt': expiresAt, ':id': invitationId },
    }),
  );
}

/**
 * Simulates the passage of time: moves an invitation's expiry (and its pending guard's) into the
 * past, as if the expiry passed and TTL has not deleted anything yet.
 */
export async function expireInvitation(stack: TestStack, orgId: number, invitationId: string, secondsAgo = 60) {
  await setInvitationExpiry(stack, orgId, invitationId, Math.floor(Date.now() / 1000) - secondsAgo);
}

/**
 * Simulates `seconds` passing for one invitation (its stored clock readings move back; TTL has
 * deleted nothing): expiresAt, respondedAt and the TTL, and its pending guard's expiry if any.
 */
export async function ageInvitation(stack: TestStack, orgId: number, invitationId: string, seconds: number) {
  const item = await storedInvitation(stack, orgId, invitationId);
  if (!item) throw new Error(`no invitation ${invitationId}`);
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: `SET expiresAt = :expiresAt, #ttl = :ttl${item.respondedAt ? ', respondedAt = :respondedAt' : ''}`,
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':expiresAt': item.expiresAt - seconds,
        ':ttl': item.ttl - seconds,
        ...(item.respondedAt && { ':respondedAt': new Date(Date.parse(item.respondedAt) - seconds * 1000).toISOString() }),
      },
    }),
  );
  const guard = await storedGuard(stack, orgId, item.emailNormalized);
  if (guard?.invitationId === invitationId) {
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.pendingGuard(orgId, item.emailNormalized),
        UpdateExpression: 'SET expiresAt = :expiresAt, #ttl = :expiresAt',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':expiresAt': item.expiresAt - seconds },
      }),
    );
  }
}
