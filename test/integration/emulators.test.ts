/**
 * Proves the local emulators support what the service relies on, so a failing service test is
 * never an emulator gap in disguise.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTable } from '../../local/create-table.ts';
import { listLocalEmails } from '../../local/ses-local.ts';
import { tableSchema } from '../../shared/deployment/table-schema.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('DynamoDB Local', () => {
  const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials });
  const TableName = `emulators-${randomUUID()}`;

  beforeAll(async () => {
    await createTable(client, TableName);
    await createTable(client, TableName); // idempotent
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName }));
    client.destroy();
  });

  it('cancels a transaction with per-item reasons and returns the old item on ALL_OLD', async () => {
    const guard = { PK: { S: 'ORG#1' }, SK: { S: 'GUARD#a@example.com' }, invitationId: { S: 'old' } };
    await client.send(new PutItemCommand({ TableName, Item: guard }));

    const mustBeNew = 'attribute_not_exists(PK)';
    const invitation = { PK: { S: 'ORG#1' }, SK: { S: 'INV#new' } };
    const attempt = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName, Item: invitation, ConditionExpression: mustBeNew } },
          {
            Put: {
              TableName,
              Item: { ...guard, invitationId: { S: 'new' } },
              ConditionExpression: mustBeNew,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
    );

    const error = await attempt.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    expect(reasons.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(reasons[1]?.Item).toEqual(guard);
    // All or nothing: the first put did not happen either.
    const written = await client.send(new GetItemCommand({ TableName, Key: invitation, ConsistentRead: true }));
    expect(written.Item).toBeUndefined();
  });

  it('creates the table with stream, indexes and TTL as the schema says', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toBeTruthy();
    expect(Table?.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([tableSchema.invitationsByCreatedIndex.name]);
    const { userOrganizationsIndex: byUser, pendingEmailIndex: pending, inviteeInvitationsIndex: byInvitee, timerIndex: timers } = tableSchema;
    // DynamoDB does not keep the indexes in creation order.
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([byUser.name, pending.name, byInvitee.name, timers.name].sort());
    const index = (name: string) => Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === name);
    expect(index(byUser.name)).toMatchObject({
      KeySchema: [
        { AttributeName: byUser.partitionKey, KeyType: 'HASH' },
        { AttributeName: byUser.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    expect(index(pending.name)).toMatchObject({
      KeySchema: [
        { AttributeName: pending.partitionKey, KeyType: 'HASH' },
        { AttributeName: pending.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE' },
    });
    expect([...(index(pending.name)?.Projection?.NonKeyAttributes ?? [])].sort()).toEqual(
      ['orgId', 'id', 'deliverySeq'].sort(),
    );
    expect(index(byInvitee.name)).toMatchObject({
      KeySchema: [
        { AttributeName: byInvitee.partitionKey, KeyType: 'HASH' },
        { AttributeName: byInvitee.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    expect(index(timers.name)).toMatchObject({
      KeySchema: [
        { AttributeName: timers.partitionKey, KeyType: 'HASH' },
        { AttributeName: timers.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE' },
    });
    expect([...(index(timers.name)?.Projection?.NonKeyAttributes ?? [])].sort()).toEqual([...timers.projectedAttributes].sort());

    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: tableSchema.ttlAttribute });
  });

  it('keeps the pending-email index sparse and projects only what the sweep reads', async () => {
    const { pendingEmailIndex: pending } = tableSchema;
    const partition = `EMAIL#PENDING#${randomUUID()}`; // this test's own GSI2 partition
    const invitation = (id: string) => ({
      PK: { S: 'ORG#7' },
      SK: { S: `INV#${id}` },
      orgId: { N: '7' },
      id: { S: id },
      deliverySeq: { N: '2' },
      userEmail: { S: `${id}@example.com` },
    });
    await client.send(
      new PutItemCommand({
        TableName,
        Item: { ...invitation('queued'), [pending.partitionKey]: { S: partition }, [pending.sortKey]: { S: '2030-01-01T00:00:00.000Z' } },
      }),
    );
    await client.send(new PutItemCommand({ TableName, Item: invitation('delivered') })); // no GSI2 keys

    const { Items } = await client.send(
      new QueryCommand({
        TableName,
        IndexName: pending.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pending.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: partition } },
      }),
    );

    expect(Items).toEqual([
      {
        PK: { S: 'ORG#7' },
        SK: { S: 'INV#queued' },
        [pending.partitionKey]: { S: partition },
        [pending.sortKey]: { S: '2030-01-01T00:00:00.000Z' },
        orgId: { N: '7' },
        id: { S: 'queued' },
        deliverySeq: { N: '2' },
      },
    ]);
  });
});

describe('SES emulator', () => {
  it('stores a sent email and lists it back', async () => {
    const endpoint = inject('sesEndpoint');
    const ses = new SESv2Client({ endpoint, region: 'us-east-1', credentials });
    const to = `${randomUUID()}@example.com`;
    const { MessageId } = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'noreply@example.com',
        Destination: { ToAddresses: [to] },
        Content: { Simple: { Subject: { Data: 'Invitation' }, Body: { Text: { Data: 'Join us' } } } },
      }),
    );
    ses.destroy();

    const email = (await listLocalEmails(endpoint)).find((e) => e.destination.to.includes(to));
    expect(email).toMatchObject({ messageId: MessageId, subject: 'Invitation', body: { text: 'Join us' } });
  });
});
