/**
 * The product as one construct: everything the service needs, generated from the same route
 * table the local server uses (shared/deployment/routes.ts) and the same table schema
 * (shared/deployment/table-schema.ts). infra/stack.ts is the app's stack around one instance;
 * your own CDK app can put one or more beside its own resources (README: "Use it in your own CDK app").
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
 * Each part is a plain function that creates its constructs directly in this construct (no
 * nested constructs), so that the logical ids of deployed resources do not depend on how the code
 * is split: a changed id would replace the resource. The calls keep the order of the template.
 */
import { Names, RemovalPolicy, Tags } from 'aws-cdk-lib';
import type { DomainMappingOptions, HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createAlarms } from './alarms.ts';
import { loadStackConfig, type ContextKey, type LogLevel, type RemovalPolicyName, type StackConfig } from './config.ts';
import { createEmailFunctions, createEmailResources } from './email.ts';
import { createEventPublishing, type EventPublishing } from './events.ts';
import { functionEnvironments, functionFactory, SERVICE_NAME } from './functions.ts';
import { createHttpApi } from './http-api.ts';
import type { ServiceFunction } from './service-function.ts';
import { createTable } from './table.ts';
import { createTimerFunction } from './timers.ts';

/**
 * The service's settings: the same names, meanings and defaults as the CDK context keys of the
 * app (infra/config.ts CONTEXT_DEFAULTS, the README's configuration table), validated by the same
 * code with every problem listed in one error. `namePrefix` stands for the app's `stackName`.
 */
export interface InvitationsServiceProps {
  /**
   * Prefix of the physical names (`<namePrefix>-<function id>`, the API name, `<namePrefix>-events`
   * for the event bus and the pipe): a letter, then at most 39 letters, digits and hyphens.
   * Default: derived from the stack name and this construct's path, so two instances never clash.
   */
  readonly namePrefix?: string;
  readonly jwtIssuer: string;
  readonly jwtJwksUri: string;
  /** Accepted `aud` values (array or comma-separated), or `any`. */
  readonly jwtAudience: string | readonly string[];
  readonly jwtClockToleranceSeconds?: number;
  readonly authorizerCacheTtlSeconds?: number;
  readonly senderEmail: string;
  readonly senderDomain?: string;
  readonly useExistingSenderIdentity?: boolean;
  readonly replyTo?: string;
  readonly brandName?: string;
  readonly frontendUrl: string;
  readonly allowedOrigins?: string | readonly string[];
  readonly invitationExpirySeconds?: number;
  readonly invitationRetentionSeconds?: number;
  readonly answeredInvitationRetentionSeconds?: number;
  readonly reminderBeforeSeconds?: number;
  readonly eventRetentionSeconds?: number;
  readonly rateLimitCreate?: string;
  readonly rateLimitResend?: string;
  readonly rateLimitCreateOrganization?: string;
  readonly rateLimitUpdateOrganization?: string;
  readonly emailSendAttempts?: number;
  readonly emailSweepAgeSeconds?: number;
  readonly sweepIntervalMinutes?: number;
  readonly sesSandboxRecipients?: string | readonly string[];
  readonly apiThrottlingRateLimit?: number;
  readonly apiThrottlingBurstLimit?: number;
  readonly logRetentionDays?: number;
  readonly logLevel?: LogLevel;
  readonly metricsNamespace?: string;
  readonly alarmEmail?: string;
  readonly alarmTopicArn?: string;
  /** An existing topic for the alarm actions (instead of alarmTopicArn); alarmEmail, if set, subscribes to it. */
  readonly alarmTopic?: sns.ITopic;
  readonly eventBusArn?: string;
  readonly webhookUrl?: string;
  readonly removalPolicy?: RemovalPolicyName;
  readonly deletionProtection?: boolean;
  /** Also publish GET /docs and GET /openapi.yaml without the authorizer (the API reference page). */
  readonly publishDocs?: boolean;
  /** Refuse example.com/.org/.net values and the shipped jwtAudience (the app sets it for `npm run deploy`). */
  readonly rejectExampleValues?: boolean;
  /** An existing API Gateway custom domain to map the API's stage to (`url` is then on that domain). */
  readonly domain?: DomainMappingOptions;
}

// Every context key is a prop (stackName is namePrefix): a key added to config.ts without a prop fails typecheck.
type MissingProps = Exclude<Exclude<ContextKey, 'stackName'>, keyof InvitationsServiceProps>;
const everyContextKeyIsAProp: [MissingProps] extends [never] ? true : MissingProps = true;
void everyContextKeyIsAProp;

export class InvitationsService extends Construct {
  /** The validated configuration (defaults applied). */
  readonly config: StackConfig;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Base URL of the API: on the custom domain when `domain` is given, else the execute-api URL. */
  readonly url: string;
  readonly table: dynamodb.TableV2;
  /** Where the events go: the bus this construct created, or the one of eventBusArn. */
  readonly eventBus: events.IEventBus;
  readonly eventPublishing: EventPublishing;
  /** Every function by its id: the route ids, `authorizer`, and the event functions' ids. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;
  /** The topic the alarm actions go to, if any. */
  readonly alarmTopic: sns.ITopic | undefined;
  readonly deadLetterQueue: sqs.Queue;
  readonly emailIdentity: ses.IEmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;

  constructor(scope: Construct, id: string, props: InvitationsServiceProps) {
    super(scope, id);
    const namePrefix = props.namePrefix ?? Names.uniqueResourceName(this, { maxLength: 40, separator: '-' });
    const values: Record<string, unknown> = { ...props, namePrefix };
    const config = loadStackConfig(
      (key) => values[key],
      { nameKey: 'namePrefix', description: `Invalid props of InvitationsService ${this.node.path}` },
      props.alarmTopic && props.alarmTopicArn ? ['alarmTopic and alarmTopicArn are both set: give one'] : [],
    );
    this.config = config;
    Tags.of(this).add('service', SERVICE_NAME);

    const removalPolicy = config.data.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = config.observability.logRetentionDays as logs.RetentionDays;
    const { newFunction, functions } = functionFactory(this, { namePrefix: config.namePrefix, logRetention, removalPolicy });

    this.table = createTable(this, { removalPolicy, deletionProtection: config.data.deletionProtection });
    const email = createEmailResources(this, { config, removalPolicy });
    this.deadLetterQueue = email.deadLetterQueue;
    this.emailIdentity = email.identity;
    this.configurationSet = email.configurationSet;
    const environments = functionEnvironments(config, {
      tableName: this.table.tableName,
      configurationSetName: email.configurationSet.configurationSetName,
    });

    const http = createHttpApi(this, { config, table: this.table, environments, newFunction, logRetention, removalPolicy, domain: props.domain });
    this.api = http.api;
    this.stage = http.stage;
    this.url = props.domain ? this.stage.domainUrl : this.stage.url;
    createEmailFunctions(this, { config, table: this.table, email, environments, newFunction });
    this.eventPublishing = createEventPublishing(this, { config, table: this.table, environments, newFunction, removalPolicy });
    this.eventBus = this.eventPublishing.bus;
    createTimerFunction(this, { table: this.table, environments, newFunction });
    this.functions = functions;
    this.alarmTopic = createAlarms(this, {
      config,
      api: this.api,
      functions,
      deadLetterQueue: this.deadLetterQueue,
      feedbackSubscriptionDeadLetterQueue: email.feedbackSubscriptionDeadLetterQueue,
      eventsDeadLetterQueue: this.eventPublishing.deadLetterQueue,
      webhookDeadLetterQueue: this.eventPublishing.webhook?.deadLetterQueue,
      alarmTopic: props.alarmTopic,
    });
  }
}
