/**
 * Every change is an event, published to EventBridge (shared/deployment/event-publishing.ts):
 *
 *   table stream (filtered: new event items) → pipe → enrichment function (the item as the event
 *     model) → event bus (new, or eventBusArn); failed batches, after retries → dead-letter queue
 *   optional webhookUrl: rule on the bus (source) → API destination (POST, API key header from a
 *     Secrets Manager secret); failed deliveries, after retries → their own dead-letter queue
 *
 * The pipe is the stream's second reader (the email delivery mapping is the first); a DynamoDB
 * stream allows two.
 */
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_PIPE, EVENT_SOURCE, eventStreamFilterPattern } from '../shared/deployment/event-publishing.ts';
import type { StackConfig } from './config.ts';
import type { FunctionEnvironments, NewFunction } from './functions.ts';

/** The header that carries the webhook's API key. */
export const WEBHOOK_API_KEY_HEADER = 'x-api-key';

export interface EventPublishing {
  readonly bus: events.IEventBus;
  readonly pipe: pipes.CfnPipe;
  readonly pipeRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly webhook?: { readonly rule: events.Rule; readonly deadLetterQueue: sqs.Queue; readonly apiKeySecret: secretsmanager.Secret };
}

export interface EventPublishingProps {
  readonly config: StackConfig;
  readonly table: dynamodb.TableV2;
  readonly environments: FunctionEnvironments;
  readonly newFunction: NewFunction;
  readonly removalPolicy: RemovalPolicy;
}

export function createEventPublishing(scope: Construct, props: EventPublishingProps): EventPublishing {
  const { config, table, newFunction, removalPolicy } = props;
  const stack = Stack.of(scope);
  const streamArn = table.tableStreamArn;
  if (!streamArn) throw new Error('the table has no stream');

  const bus: events.IEventBus = config.events.busArn
    ? events.EventBus.fromEventBusArn(scope, 'EventBus', config.events.busArn)
    : new events.EventBus(scope, 'EventBus', {
        eventBusName: `${config.namePrefix}-events`,
        description: `Events of ${config.namePrefix}: every change to invitations and memberships`,
      });

  const deadLetterQueue = createQueue(scope, 'EventsDeadLetterQueue', removalPolicy);
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter queue of the event-publishing pipe (its source DeadLetterConfig). cdk-nag only recognizes SQS redrive policies and function DeadLetterConfig as DLQ uses.',
  });

  const render = newFunction(
    'renderEvents',
    EVENT_PIPE.enrichmentEntry,
    'events',
    props.environments.common,
    'The event pipe enrichment: table stream records to events (plain JSON)',
  );

  const pipeRole = new iam.Role(scope, 'EventPipeRole', {
    assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description: `${config.namePrefix} event pipe: read the table stream, render, put on the bus, dead-letter`,
  });
  pipeRole.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadTableStream',
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
      resources: [streamArn],
    }),
  );
  pipeRole.addToPolicy(new iam.PolicyStatement({ sid: 'RenderEvents', actions: ['lambda:InvokeFunction'], resources: [render.function.functionArn] }));
  pipeRole.addToPolicy(new iam.PolicyStatement({ sid: 'PutEventsOnTheBus', actions: ['events:PutEvents'], resources: [bus.eventBusArn] }));
  pipeRole.addToPolicy(new iam.PolicyStatement({ sid: 'DeadLetter', actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }));

  const pipe = new pipes.CfnPipe(scope, 'EventPipe', {
    name: `${config.namePrefix}-events`,
    description: 'Table stream (new event items) → events as plain JSON → event bus',
    roleArn: pipeRole.roleArn,
    source: streamArn,
    sourceParameters: {
      filterCriteria: { filters: [{ pattern: JSON.stringify(eventStreamFilterPattern) }] },
      dynamoDbStreamParameters: {
        startingPosition: 'TRIM_HORIZON',
        batchSize: EVENT_PIPE.batchSize,
        maximumRetryAttempts: EVENT_PIPE.retryAttempts,
        maximumRecordAgeInSeconds: EVENT_PIPE.maximumRecordAgeSeconds,
        onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        deadLetterConfig: { arn: deadLetterQueue.queueArn },
      },
    },
    enrichment: render.function.functionArn,
    target: bus.eventBusArn,
    targetParameters: {
      eventBridgeEventBusParameters: {
        source: EVENT_PIPE.target.source,
        detailType: EVENT_PIPE.target.detailType,
        time: EVENT_PIPE.target.time,
      },
    },
  });
  // The role's policy must exist before the pipe starts reading.
  pipe.node.addDependency(pipeRole);

  const webhook = config.events.webhookUrl ? createWebhook(scope, { bus, url: config.events.webhookUrl, namePrefix: config.namePrefix, removalPolicy }) : undefined;
  return { bus, pipe, pipeRole, deadLetterQueue, webhook };
}

function createWebhook(
  scope: Construct,
  props: { bus: events.IEventBus; url: string; namePrefix: string; removalPolicy: RemovalPolicy },
): NonNullable<EventPublishing['webhook']> {
  // The key the webhook checks: generated here; read it (or put your own) in Secrets Manager.
  const apiKeySecret = new secretsmanager.Secret(scope, 'WebhookApiKey', {
    description: `${props.namePrefix}: the ${WEBHOOK_API_KEY_HEADER} header value sent with every event POSTed to webhookUrl`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true },
    removalPolicy: props.removalPolicy,
  });
  Validations.of(apiKeySecret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: 'The webhook API key is shared with the webhook receiver, which must change in step; it is rotated by hand (README: "Events on EventBridge").',
  });
  const connection = new events.Connection(scope, 'WebhookConnection', {
    description: `${props.namePrefix}: API key for webhookUrl`,
    authorization: events.Authorization.apiKey(WEBHOOK_API_KEY_HEADER, apiKeySecret.secretValue),
  });
  const destination = new events.ApiDestination(scope, 'WebhookDestination', {
    description: `${props.namePrefix}: POSTs every event to webhookUrl`,
    connection,
    endpoint: props.url,
    httpMethod: events.HttpMethod.POST,
    rateLimitPerSecond: 10,
  });
  const deadLetterQueue = createQueue(scope, 'WebhookDeadLetterQueue', props.removalPolicy);
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter queue of the webhook rule target. cdk-nag only recognizes SQS redrive policies and function DeadLetterConfig as DLQ uses.',
  });
  const rule = new events.Rule(scope, 'WebhookRule', {
    description: 'Every event of the service → webhookUrl',
    eventBus: props.bus,
    eventPattern: { source: [EVENT_SOURCE] },
    targets: [
      new targets.ApiDestination(destination, {
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
        deadLetterQueue,
      }),
    ],
  });
  return { rule, deadLetterQueue, apiKeySecret };
}

/** A queue for dead letters: 14 days, encrypted, TLS only (like the email dead-letter queues). */
function createQueue(scope: Construct, id: string, removalPolicy: RemovalPolicy): sqs.Queue {
  return new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    removalPolicy,
  });
}
