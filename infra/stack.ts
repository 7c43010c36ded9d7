/**
 * The app's stack: one InvitationsService (infra/service.ts) configured from the CDK context,
 * and the stack outputs. The service has the construct id `Default`, which CDK leaves out of
 * logical ids, so the template is the one the stack had when it created the resources itself.
 */
import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CONTEXT_DEFAULTS, type ContextKey } from './config.ts';
import type { EventPublishing } from './events.ts';
import { SERVICE_NAME } from './functions.ts';
import { InvitationsService, type InvitationsServiceProps } from './service.ts';
import type { ServiceFunction } from './service-function.ts';
import { EVENT_SOURCE } from '../shared/deployment/event-publishing.ts';

export { AUTHORIZER_ALARM } from './alarms.ts';
export { DELIVERY_STREAM } from './email.ts';
export { FUNCTION_SIZES, SERVICE_NAME } from './functions.ts';
export { ACCESS_LOG_FORMAT } from './http-api.ts';

/**
 * The service's props from the CDK context: every context key under its own name, `stackName` as
 * the name prefix (so the physical names are `<stackName>-…`). Values are passed as given
 * (`--context` values are strings); the service validates them.
 */
export function serviceProps(tryGetContext: (key: string) => unknown): InvitationsServiceProps {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(CONTEXT_DEFAULTS) as ContextKey[]) {
    props[key === 'stackName' ? 'namePrefix' : key] = tryGetContext(key);
  }
  return props as unknown as InvitationsServiceProps;
}

export interface InvitationsStackProps extends StackProps {
  readonly service: InvitationsServiceProps;
}

export class InvitationsStack extends Stack {
  readonly service: InvitationsService;
  readonly table: dynamodb.TableV2;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly deadLetterQueue: sqs.Queue;
  readonly eventPublishing: EventPublishing;
  /** Every function by its id: the route ids, `authorizer`, and the event functions' ids. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;

  constructor(scope: Construct, id: string, props: InvitationsStackProps) {
    super(scope, id, props);
    Tags.of(this).add('service', SERVICE_NAME);
    // `Default`: left out of logical ids (see the top of this file).
    const service = new InvitationsService(this, 'Default', props.service);
    this.service = service;
    this.table = service.table;
    this.api = service.api;
    this.stage = service.stage;
    this.deadLetterQueue = service.deadLetterQueue;
    this.eventPublishing = service.eventPublishing;
    this.functions = service.functions;
    const { config } = service;

    new CfnOutput(this, 'ApiUrl', { value: service.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'TableName', { value: service.table.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: service.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventBusArn', { value: service.eventBus.eventBusArn, description: `Where the events go (source ${EVENT_SOURCE})` });
    if (service.eventPublishing.webhook) {
      new CfnOutput(this, 'WebhookApiKeySecret', {
        value: service.eventPublishing.webhook.apiKeySecret.secretName,
        description: 'Secrets Manager secret with the x-api-key value the webhook receives',
      });
    }
    new CfnOutput(this, 'SesIdentity', { value: config.email.identityName, description: 'SES identity to verify' });
    new CfnOutput(this, 'SesConfigurationSet', { value: service.configurationSet.configurationSetName });
    if (service.emailIdentity instanceof ses.EmailIdentity && config.email.senderDomain) {
      service.emailIdentity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, { value: `${record.name} CNAME ${record.value}`, description: 'DNS record for Easy DKIM' });
      });
    }
  }
}
