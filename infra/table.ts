/**
 * The DynamoDB table, generated from the same schema the adapters use (shared/deployment/table-schema.ts):
 * on-demand, PITR, TTL, a stream of new and old images (it drives email delivery), and
 * LSI1/GSI1/GSI2/GSI3/GSI4. Functions get table permissions only through grantTable.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { tableSchema } from '../shared/deployment/table-schema.ts';
import { queriedIndexes, tableActions, type DynamoDbGrant } from '../shared/deployment/routes.ts';
import type { ServiceFunction } from './service-function.ts';

const {
  partitionKey,
  sortKey,
  ttlAttribute,
  invitationsByCreatedIndex: lsi,
  userOrganizationsIndex: byUser,
  pendingEmailIndex: pending,
  inviteeInvitationsIndex: byInvitee,
  timerIndex: timers,
} = tableSchema;

export function createTable(scope: Construct, props: { removalPolicy: RemovalPolicy; deletionProtection: boolean }): dynamodb.TableV2 {
  const key = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
  return new dynamodb.TableV2(scope, 'Table', {
    partitionKey: key(partitionKey),
    sortKey: key(sortKey),
    billing: dynamodb.Billing.onDemand(),
    timeToLiveAttribute: ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: props.deletionProtection,
    removalPolicy: props.removalPolicy,
    dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    localSecondaryIndexes: [{ indexName: lsi.name, sortKey: key(lsi.sortKey), projectionType: dynamodb.ProjectionType.ALL }],
    globalSecondaryIndexes: [
      {
        indexName: byUser.name,
        partitionKey: key(byUser.partitionKey),
        sortKey: key(byUser.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      },
      {
        indexName: pending.name,
        partitionKey: key(pending.partitionKey),
        sortKey: key(pending.sortKey),
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...pending.projectedAttributes],
      },
      {
        indexName: byInvitee.name,
        partitionKey: key(byInvitee.partitionKey),
        sortKey: key(byInvitee.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      },
      {
        indexName: timers.name,
        partitionKey: key(timers.partitionKey),
        sortKey: key(timers.sortKey),
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...timers.projectedAttributes],
      },
    ],
  });
}

/** Exactly the grants of a route or event function (shared/deployment/routes.ts): actions on the table, Query on the indexes it names. */
export function grantTable(table: dynamodb.TableV2, fn: ServiceFunction, grants: readonly DynamoDbGrant[]): void {
  const actions = tableActions(grants);
  const indexes = queriedIndexes(grants);
  if (actions.length > 0) {
    fn.role.addToPolicy(new iam.PolicyStatement({ sid: 'Table', actions: [...actions], resources: [table.tableArn] }));
  }
  if (indexes.length > 0) {
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'QueryIndexes',
        actions: ['dynamodb:Query'],
        resources: indexes.map((name) => `${table.tableArn}/index/${name}`),
      }),
    );
  }
}
