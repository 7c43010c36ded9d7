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
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTable } from '../../local/create-table.ts';
import { listLocalEmails } from '../../local/ses-local.ts';
import { tableSchema } from '../../shared/adapters/dynamodb/table-schema.ts';

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
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([tableSchema.userOrganizationsIndex.name]);

    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: tableSchema.ttlAttribute });
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
