/**
 * Creates the service's single table (for DynamoDB Local) exactly as `tableSchema` describes it.
 * The CDK stack builds the real table from the same schema.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  type GlobalSecondaryIndex,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { tableSchema } from '../shared/deployment/table-schema.ts';

/** Idempotent: an existing table is left as is (apart from switching TTL on if it is off). */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, invitationsByCreatedIndex: lsi } = tableSchema;
  const globalIndexes = globalSecondaryIndexes();
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(),
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: lsi.name,
            KeySchema: [
              { AttributeName: partitionKey, KeyType: 'HASH' },
              { AttributeName: lsi.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        GlobalSecondaryIndexes: globalIndexes,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // Also when it already existed: a concurrent creator may not have finished yet.
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  await addMissingGlobalIndexes(client, tableName, globalIndexes);

  // TTL can only be set on an ACTIVE table, hence after the wait.
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Lost a race with another caller enabling it.
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  }
}

function globalSecondaryIndexes(): GlobalSecondaryIndex[] {
  const { userOrganizationsIndex: byUser, pendingEmailIndex: pending, inviteeInvitationsIndex: byInvitee, timerIndex: timers } = tableSchema;
  const keySchema = (index: { partitionKey: string; sortKey: string }) => [
    { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
  ];
  return [
    { IndexName: byUser.name, KeySchema: keySchema(byUser), Projection: { ProjectionType: 'ALL' } },
    {
      IndexName: pending.name,
      KeySchema: keySchema(pending),
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...pending.projectedAttributes] },
    },
    { IndexName: byInvitee.name, KeySchema: keySchema(byInvitee), Projection: { ProjectionType: 'ALL' } },
    {
      IndexName: timers.name,
      KeySchema: keySchema(timers),
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...timers.projectedAttributes] },
    },
  ];
}

function attributeDefinitions() {
  const { partitionKey, sortKey, invitationsByCreatedIndex: lsi } = tableSchema;
  const globalIndexes = [tableSchema.userOrganizationsIndex, tableSchema.pendingEmailIndex, tableSchema.inviteeInvitationsIndex, tableSchema.timerIndex];
  return [partitionKey, sortKey, lsi.sortKey, ...globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey])].map(
    (name) => ({ AttributeName: name, AttributeType: 'S' as const }),
  );
}

/** A local table kept from an older version (npm start persists data) gains newer indexes. */
async function addMissingGlobalIndexes(client: DynamoDBClient, tableName: string, indexes: GlobalSecondaryIndex[]) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of indexes.filter((i) => !existing.has(i.IndexName))) {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions(),
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
  }
}
