/**
 * The endpoints under test. Each has a request factory (through the local stack: gateway,
 * authorizer, handler) and a floor: the raw DynamoDB Local calls the endpoint minimally needs,
 * issued directly with the SDK, so the ratio shows what the service adds on top of its data.
 */
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { keys } from '../shared/adapters/dynamodb/keys.ts';

export interface BenchRequest {
  method: string;
  path: string;
  token: string;
  body?: unknown;
  expect: number;
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
  /** A pending invitation, for get and resend. */
  readonly invitationId: string;
  /** Pending invitations with their invitees' tokens, one per answer request. */
  readonly toAnswer: Array<{ id: string; token: string }>;
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

  const list: Endpoint[] = [
    {
      name: 'getOrganization',
      documentedCalls: 2,
      request: () => ({ method: 'GET', path: `/v1/organizations/${fx.orgName}`, token: fx.adminToken, expect: 200 }),
      floor: async () => {
        await getName();
        await queryOrg();
      },
    },
    {
      name: 'createInvitations',
      documentedCalls: 4,
      request: (i) => ({
        method: 'POST',
        path: `/v1/organizations/${fx.orgName}/invitations`,
        token: fx.adminToken,
        body: { emails: [`created-${i}-${Date.now()}@bench.test`] },
        expect: 201,
      }),
      floor: async (i) => {
        await getName();
        await queryOrg();
        await increment(floorKey('rate', 0));
        await send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: table, Item: { ...floorKey('guard', i), n: i }, ConditionExpression: 'attribute_not_exists(PK)' } },
              { Put: { TableName: table, Item: { ...floorKey('invitation', i), n: i }, ConditionExpression: 'attribute_not_exists(PK)' } },
            ],
          }),
        );
      },
    },
    {
      name: 'listInvitations',
      documentedCalls: 3,
      request: () => ({ method: 'GET', path: `/v1/organizations/${fx.orgName}/invitations?limit=20`, token: fx.adminToken, expect: 200 }),
      floor: async () => {
        await getName();
        await Promise.all([
          batchGet([orgKey, adminMembership]),
          send(
            new QueryCommand({
              TableName: table,
              IndexName: 'LSI1',
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': orgKey.PK },
              ScanIndexForward: false,
              ConsistentRead: true,
              Limit: 21,
            }),
          ),
        ]);
      },
    },
    {
      name: 'getInvitation',
      documentedCalls: 2,
      request: () => ({
        method: 'GET',
        path: `/v1/organizations/${fx.orgName}/invitations/${fx.invitationId}`,
        token: fx.adminToken,
        expect: 200,
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
          method: 'PUT',
          path: `/v1/organizations/${fx.orgName}/invitations/${target.id}`,
          token: target.token,
          body: { status: 'REJECTED' },
          expect: 200,
        };
      },
      floor: async (i) => {
        await getName();
        await send(new GetCommand({ TableName: table, Key: invitationKey, ConsistentRead: true }));
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table,
                  Key: floorKey('answer', i),
                  UpdateExpression: 'SET #s = :s',
                  ConditionExpression: 'attribute_not_exists(#s)',
                  ExpressionAttributeNames: { '#s': 'status' },
                  ExpressionAttributeValues: { ':s': 'REJECTED' },
                },
              },
              { Delete: { TableName: table, Key: floorKey('answer-guard', i) } },
            ],
          }),
        );
      },
    },
    {
      name: 'resendInvitation',
      documentedCalls: 3,
      request: () => ({
        method: 'POST',
        path: `/v1/organizations/${fx.orgId}/invitations/${fx.invitationId}/resend`,
        token: fx.adminToken,
        expect: 200,
      }),
      floor: async (i) => {
        await batchGet([invitationKey, orgKey, adminMembership]);
        await increment(floorKey('rate', 1));
        await send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: { TableName: table, Key: floorKey('resend', 0), UpdateExpression: 'ADD #n :one', ExpressionAttributeNames: { '#n': 'n' }, ExpressionAttributeValues: { ':one': 1 } } },
              { Put: { TableName: table, Item: { ...floorKey('resend-guard', 0), n: i } } },
            ],
          }),
        );
      },
    },
  ];
  return list;
}
