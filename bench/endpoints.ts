/**
 * The endpoints under test. Each has a request factory (through the local stack: gateway,
 * authorizer, handler) and a floor: the raw DynamoDB Local calls the endpoint minimally needs,
 * issued directly with the SDK, so the ratio shows what the service adds on top of its data.
 */
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { InvitationsClient } from '../client/index.ts';
import { keys } from '../shared/adapters/dynamodb/keys.ts';
import { tableSchema } from '../shared/deployment/table-schema.ts';

/** One request through the typed client (client/index.ts), as `token`'s user, and the status it must get. */
export interface BenchRequest {
  readonly token: string;
  readonly expect: number;
  send(api: InvitationsClient): Promise<{ readonly data?: unknown; readonly error?: unknown; readonly response: Response }>;
}

/** The invitations request with the given emails (the bench also sends it with ten). */
export function createInvitationsRequest(fx: Pick<Fixture, 'orgName' | 'adminToken'>, emails: string[]) {
  return {
    token: fx.adminToken,
    expect: 201,
    send: (api) => api.POST('/v1/organizations/{orgName}/invitations', { params: { path: { orgName: fx.orgName } }, body: { emails } }),
  } satisfies BenchRequest;
}

export interface Endpoint {
  readonly name: string;
  /** The README's "DynamoDB calls per endpoint" (happy path). */
  readonly documentedCalls: number;
  request(i: number): BenchRequest;
  floor(i: number): Promise<unknown>;
}

export interface Fixture {
  readonly orgId: number;
  readonly orgName: string;
  readonly adminSub: string;
  readonly adminToken: string;
  /** A plain member (joined by accepting), whose role updateMember changes. */
  readonly memberSub: string;
  /** A pending invitation, for get and resend. */
  readonly invitationId: string;
  /** Pending invitations with their invitees' tokens, one per answer request. */
  readonly toAnswer: Array<Invitee>;
  /** More pending invitations, answered by the floor with the raw calls. */
  readonly toAnswerByFloor: Array<Invitee>;
  /** The address of `invitationId`. */
  readonly invitationEmail: string;
  /** Pending invitations, one per revoke request, and more for the floor's raw writes. */
  readonly toRevoke: Array<{ id: string; email: string }>;
  readonly toRevokeByFloor: Array<{ id: string; email: string }>;
  /** Members (user ids), one per remove request, and more for the floor's raw delete. */
  readonly toRemove: string[];
  readonly toRemoveByFloor: string[];
  /** An invitee with a pending invitation from each of `inviterOrgIds` (other organizations), for "my invitations". */
  readonly myInvitations: { readonly token: string; readonly email: string; readonly inviterOrgIds: number[] };
}

/** A pending invitation and its invitee's token. */
export interface Invitee {
  readonly id: string;
  readonly token: string;
  readonly email: string;
  readonly expirationDate: string;
}

export function endpoints(db: DynamoDBDocumentClient, table: string, fx: Fixture): Endpoint[] {
  const send = <T>(command: T) => db.send(command as never);
  const nameKey = keys.organizationName(fx.orgName);
  const orgKey = keys.organization(fx.orgId);
  const adminMembership = keys.membership(fx.orgId, fx.adminSub);
  const invitationKey = keys.invitation(fx.orgId, fx.invitationId);
  const floorKey = (kind: string, i: number) => ({ PK: `FLOOR#${kind}`, SK: String(i) });
  const increment = (key: object) =>
    send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'ADD #c :one', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':one': 1 } }));
  const getName = () => send(new GetCommand({ TableName: table, Key: nameKey }));
  const queryOrg = () =>
    send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': orgKey.PK, ':p': 'ORG' },
        ConsistentRead: true,
      }),
    );
  const batchGet = (itemKeys: object[]) =>
    send(new BatchGetCommand({ RequestItems: { [table]: { Keys: itemKeys as Record<string, unknown>[], ConsistentRead: true } } }));

  const nth = <T>(pool: readonly T[], i: number, what: string): T => {
    const entry = pool[i];
    if (entry === undefined) throw new Error(`only ${pool.length} ${what} were seeded`);
    return entry;
  };

  const list: Endpoint[] = [
    {
      name: 'listMyInvitations',
      documentedCalls: 2,
      request: () => ({ token: fx.myInvitations.token, expect: 200, send: (api) => api.GET('/v1/user/invitations') }),
      floor: async () => {
        // The invitee's index partition (a page of 100 + 1), then the page's organizations for their names.
        const index = tableSchema.inviteeInvitationsIndex;
        await send(
          new QueryCommand({
            TableName: table,
            IndexName: index.name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': index.partitionKey },
            ExpressionAttributeValues: { ':pk': keys.inviteeInvitations(fx.myInvitations.email).GSI3PK },
            ScanIndexForward: false,
            Limit: 101,
          }),
        );
        await batchGet(fx.myInvitations.inviterOrgIds.map((orgId) => keys.organization(orgId)));
      },
    },
    {
      name: 'listInvitationEvents',
      documentedCalls: 3,
      request: () => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) =>
          api.GET('/v1/organizations/{orgName}/invitations/{invitationId}/events', { params: { path: { orgName: fx.orgName, invitationId: fx.invitationId } } }),
      }),
      floor: async () => {
        // Access is decided before the events are read.
        await getName();
        await batchGet([orgKey, adminMembership]);
        await send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.invitationEvents(fx.orgId, fx.invitationId) },
            ConsistentRead: true,
            Limit: 101,
          }),
        );
      },
    },
    {
      name: 'getOrganization',
      documentedCalls: 2,
      request: () => ({ token: fx.adminToken, expect: 200, send: (api) => api.GET('/v1/organizations/{name}', { params: { path: { name: fx.orgName } } }) }),
      floor: async () => {
        await getName();
        await queryOrg();
      },
    },
    {
      name: 'createInvitations',
      documentedCalls: 4,
      request: (i) => createInvitationsRequest(fx, [`created-${i}-${Date.now()}@bench.test`]),
      floor: async (i) => {
        await getName();
        await queryOrg();
        await increment(floorKey('rate', 0));
        // The same items the service writes (a guard, and an invitation carrying the LSI1 and GSI2
        // keys), in a partition of their own so that the list endpoint never reads them.
        const now = new Date().toISOString();
        const id = `floor-${i}`;
        const FLOOR_ORG = 999_999_999;
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: { ...keys.pendingGuard(FLOOR_ORG, `${id}@floor.test`), invitationId: id, expiresAt: 1, ttl: 1 },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Put: {
                  TableName: table,
                  Item: {
                    ...keys.invitation(FLOOR_ORG, id),
                    LSI1SK: keys.invitationCreatedSortKey(now, id),
                    ...keys.pendingEmail(id, now),
                    id,
                    userEmail: `${id}@floor.test`,
                    status: 'PENDING',
                    createdAt: now,
                  },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
            ],
          }),
        );
      },
    },
    {
      name: 'createInvitations (dry run)',
      documentedCalls: 3,
      request: (i) => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) =>
          api.POST('/v1/organizations/{orgName}/invitations', {
            params: { path: { orgName: fx.orgName }, query: { dryRun: 'true' } },
            body: { emails: [`dry-${i}@bench.test`, fx.invitationEmail] },
          }),
      }),
      floor: async (i) => {
        await getName();
        await queryOrg();
        await batchGet([keys.pendingGuard(fx.orgId, `dry-${i}@bench.test`), keys.pendingGuard(fx.orgId, fx.invitationEmail)]);
      },
    },
    {
      name: 'listInvitations',
      documentedCalls: 3,
      request: () => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) => api.GET('/v1/organizations/{orgName}/invitations', { params: { path: { orgName: fx.orgName }, query: { limit: 20 } } }),
      }),
      floor: async () => {
        // Access is decided before the invitations are read.
        await getName();
        await batchGet([orgKey, adminMembership]);
        await send(
          new QueryCommand({
            TableName: table,
            IndexName: 'LSI1',
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': orgKey.PK },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: 21,
          }),
        );
      },
    },
    {
      name: 'getInvitation',
      documentedCalls: 2,
      request: () => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) => api.GET('/v1/organizations/{name}/invitations/{uuid}', { params: { path: { name: fx.orgName, uuid: fx.invitationId } } }),
      }),
      floor: async () => {
        await getName();
        await batchGet([invitationKey, orgKey, adminMembership]);
      },
    },
    {
      name: 'answerInvitation',
      documentedCalls: 3,
      request: (i) => {
        const target = fx.toAnswer[i];
        if (!target) throw new Error(`only ${fx.toAnswer.length} invitations were seeded for answering`);
        return {
          token: target.token,
          expect: 200,
          // The spec's body is the invitation (only `status` is read).
          send: (api) =>
            api.PUT('/v1/organizations/{name}/invitations/{uuid}', {
              params: { path: { name: fx.orgName, uuid: target.id } },
              body: { userEmail: target.email, expirationDate: target.expirationDate, status: 'REJECTED' },
            }),
        };
      },
      floor: async (i) => {
        const target = fx.toAnswerByFloor[i];
        if (!target) throw new Error(`only ${fx.toAnswerByFloor.length} invitations were seeded for the answer floor`);
        const key = keys.invitation(fx.orgId, target.id);
        await getName();
        await send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table,
                  Key: key,
                  UpdateExpression: 'SET #s = :s, userId = :u, respondedAt = :r REMOVE #ttl',
                  ConditionExpression: '#s = :pending',
                  ExpressionAttributeNames: { '#s': 'status', '#ttl': 'ttl' },
                  ExpressionAttributeValues: { ':s': 'REJECTED', ':u': 'floor', ':r': new Date().toISOString(), ':pending': 'PENDING' },
                },
              },
              { Delete: { TableName: table, Key: keys.pendingGuard(fx.orgId, target.email) } },
            ],
          }),
        );
      },
    },
    {
      name: 'updateMember',
      documentedCalls: 3,
      request: (i) => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) =>
          api.PATCH('/v1/organizations/{orgName}/members/{userId}', {
            params: { path: { orgName: fx.orgName, userId: fx.memberSub } },
            body: { associationType: i % 2 === 0 ? 'ADMIN' : 'MEMBER' },
          }),
      }),
      floor: async (i) => {
        const memberKey = keys.membership(fx.orgId, fx.memberSub);
        await getName();
        await batchGet([orgKey, adminMembership, memberKey]);
        await send(
          new UpdateCommand({
            TableName: table,
            Key: floorKey('member', i),
            UpdateExpression: 'SET associationType = :t',
            ExpressionAttributeValues: { ':t': i % 2 === 0 ? 'ADMIN' : 'MEMBER' },
          }),
        );
      },
    },
    {
      name: 'resendInvitation',
      documentedCalls: 3,
      request: () => ({
        token: fx.adminToken,
        expect: 200,
        send: (api) => api.POST('/v1/organizations/{orgId}/invitations/{id}/resend', { params: { path: { orgId: fx.orgId, id: fx.invitationId } } }),
      }),
      floor: async () => {
        await batchGet([invitationKey, orgKey, adminMembership]);
        await increment(floorKey('rate', 1));
        // The same writes as a resend: the invitation (back in GSI2) and its guard.
        const now = new Date().toISOString();
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table,
                  Key: invitationKey,
                  UpdateExpression: 'SET emailRequestedAt = :now, GSI2PK = :pk, GSI2SK = :now ADD deliverySeq :one',
                  ExpressionAttributeValues: { ':now': now, ':pk': keys.pendingEmail(fx.invitationId, now).GSI2PK, ':one': 1 },
                },
              },
              {
                Put: {
                  TableName: table,
                  Item: { ...keys.pendingGuard(fx.orgId, fx.invitationEmail), invitationId: fx.invitationId, expiresAt: 2_000_000_000, ttl: 2_000_000_000 },
                },
              },
            ],
          }),
        );
      },
    },
    {
      name: 'revokeInvitation',
      documentedCalls: 3,
      request: (i) => {
        const uuid = nth(fx.toRevoke, i, 'invitations to revoke').id;
        return {
          token: fx.adminToken,
          expect: 204,
          send: (api) => api.DELETE('/v1/organizations/{name}/invitations/{uuid}', { params: { path: { name: fx.orgName, uuid } } }),
        };
      },
      floor: async (i) => {
        const target = nth(fx.toRevokeByFloor, i, 'invitations for the revoke floor');
        const key = keys.invitation(fx.orgId, target.id);
        await getName();
        await batchGet([key, orgKey, adminMembership]);
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table,
                  Key: key,
                  UpdateExpression: 'SET #s = :revoked',
                  ConditionExpression: '#s = :pending',
                  ExpressionAttributeNames: { '#s': 'status' },
                  ExpressionAttributeValues: { ':revoked': 'REVOKED', ':pending': 'PENDING' },
                },
              },
              { Delete: { TableName: table, Key: keys.pendingGuard(fx.orgId, target.email) } },
            ],
          }),
        );
      },
    },
    {
      name: 'removeMember',
      documentedCalls: 3,
      request: (i) => {
        const userId = nth(fx.toRemove, i, 'members to remove');
        return {
          token: fx.adminToken,
          expect: 204,
          send: (api) => api.DELETE('/v1/organizations/{orgName}/members/{userId}', { params: { path: { orgName: fx.orgName, userId } } }),
        };
      },
      floor: async (i) => {
        const memberKey = keys.membership(fx.orgId, nth(fx.toRemoveByFloor, i, 'members for the remove floor'));
        await getName();
        await batchGet([orgKey, adminMembership, memberKey]);
        await send(new DeleteCommand({ TableName: table, Key: memberKey, ConditionExpression: 'attribute_exists(PK)' }));
      },
    },
  ];
  return list;
}
