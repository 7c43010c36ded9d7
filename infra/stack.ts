/**
 * The product: everything the service needs in one stack, generated from the same route table
 * the local server uses (shared/deployment/routes.ts) and the same table schema (shared/deployment/table-schema.ts).
 *
 *   HTTP API (Lambda authorizer on every route, CORS, throttling, JSON access logs)   http-api.ts
 *     → one function per route → DynamoDB table (PITR, TTL, stream, LSI1/GSI1/GSI2/GSI4) table.ts
 *   table stream (filtered) → delivery function → SES (identity + configuration set)  email.ts
 *     → bounce/complaint/delivery/reject events → SNS → feedback function → table
 *   schedule → sweep function (same delivery code) → SES
 *   table stream (new event items) → pipe → enrichment → event bus (→ webhook)       events.ts
 *   schedule (every minute) → timer function → reminders (through the outbox) and expiry events   timers.ts
 *   failures → SQS dead-letter queue; alarms → optional SNS topic / email              alarms.ts
 *
 * Each part is a plain function that creates its constructs directly in this stack (no nested
 * constructs), so that the logical ids of deployed resources do not depend on how the code is
 * split: a changed id would replace the resource. The calls keep the order of the template.
 */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { createAlarms } from './alarms.ts';
import type { StackConfig } from './config.ts';
import { createEmailFunctions, createEmailResources } from './email.ts';
import { createEventPublishing, type EventPublishing } from './events.ts';
import { functionEnvironments, functionFactory, SERVICE_NAME } from './functions.ts';
import { createHttpApi } from './http-api.ts';
import type { ServiceFunction } from './service-function.ts';
import { createTable } from './table.ts';
import { EVENT_SOURCE } from '../shared/deployment/event-publishing.ts';
import { createTimerFunction } from './timers.ts';

export { AUTHORIZER_ALARM } from './alarms.ts';
export { DELIVERY_STREAM } from './email.ts';
export { FUNCTION_SIZES, SERVICE_NAME } from './functions.ts';
export { ACCESS_LOG_FORMAT } from './http-api.ts';

export interface InvitationsStackProps extends StackProps {
  readonly config: StackConfig;
}

export class InvitationsStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly deadLetterQueue: sqs.Queue;
  readonly eventPublishing: EventPublishing;
  /** Every function by its id: the route ids, `authorizer`, and the event functions' ids. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;

  constructor(scope: Construct, id: string, props: InvitationsStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('service', SERVICE_NAME);

    const removalPolicy = config.data.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = config.observability.logRetentionDays as logs.RetentionDays;
    const { newFunction, functions } = functionFactory(this, { stackName: config.stackName, logRetention, removalPolicy });

    this.table = createTable(this, { removalPolicy, deletionProtection: config.data.deletionProtection });
    const email = createEmailResources(this, { config, removalPolicy });
    this.deadLetterQueue = email.deadLetterQueue;
    const environments = functionEnvironments(config, {
      tableName: this.table.tableName,
      configurationSetName: email.configurationSet.configurationSetName,
    });

    const http = createHttpApi(this, { config, table: this.table, environments, newFunction, logRetention, removalPolicy });
    this.api = http.api;
    this.stage = http.stage;
    createEmailFunctions(this, { config, table: this.table, email, environments, newFunction });
    this.eventPublishing = createEventPublishing(this, { config, table: this.table, environments, newFunction, removalPolicy });
    createTimerFunction(this, { table: this.table, environments, newFunction });
    this.functions = functions;
    createAlarms(this, {
      config,
      api: this.api,
      functions,
      deadLetterQueue: this.deadLetterQueue,
      feedbackSubscriptionDeadLetterQueue: email.feedbackSubscriptionDeadLetterQueue,
      eventsDeadLetterQueue: this.eventPublishing.deadLetterQueue,
      webhookDeadLetterQueue: this.eventPublishing.webhook?.deadLetterQueue,
    });

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventBusArn', { value: this.eventPublishing.bus.eventBusArn, description: `Where the events go (source ${EVENT_SOURCE})` });
    if (this.eventPublishing.webhook) {
      new CfnOutput(this, 'WebhookApiKeySecret', {
        value: this.eventPublishing.webhook.apiKeySecret.secretName,
        description: 'Secrets Manager secret with the x-api-key value the webhook receives',
      });
    }
    new CfnOutput(this, 'SesIdentity', { value: config.email.identityName, description: 'SES identity to verify' });
    new CfnOutput(this, 'SesConfigurationSet', { value: email.configurationSet.configurationSetName });
    if (email.identity instanceof ses.EmailIdentity && config.email.senderDomain) {
      email.identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, { value: `${record.name} CNAME ${record.value}`, description: 'DNS record for Easy DKIM' });
      });
    }
  }
}
