/**
 * The product: everything the service needs in one stack, generated from the same route table
 * the local server uses (shared/routes.ts) and the same table schema (table-schema.ts).
 *
 *   HTTP API (Lambda authorizer on every route, CORS, throttling, JSON access logs)
 *     → one function per route → DynamoDB table (PITR, TTL, stream, LSI1/GSI1/GSI2)
 *   table stream (filtered) → delivery function → SES (identity + configuration set)
 *     → bounce/complaint/delivery/reject events → SNS → feedback function → table
 *   schedule → sweep function (same delivery code) → SES
 *   failures → SQS dead-letter queue; alarms → optional SNS topic / email
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SnsEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { tableSchema } from '../shared/adapters/dynamodb/table-schema.ts';
import { loadApiConfig, loadAuthorizerConfig, loadDeliveryConfig, loadTableConfig } from '../shared/config.ts';
import { deliveryStreamFilterPattern } from '../shared/email-delivery-trigger.ts';
import { authorizerEntry, eventFunctions, routes, type DynamoDbAction, type Route } from '../shared/routes.ts';
import type { StackConfig } from './config.ts';
import { ServiceFunction } from './service-function.ts';

/** The Powertools service name: the `service` dimension of every metric. */
export const SERVICE_NAME = 'organization-invitations';

/** Delivery event source settings (see the README's "Email delivery"). */
export const DELIVERY_STREAM = {
  batchSize: 10,
  /** Lambda's own retries of a failing batch, each with 3 in-function SES attempts behind it. */
  retryAttempts: 5,
  /** Records older than this go to the dead-letter queue; the sweep re-drives them anyway. */
  maxRecordAge: Duration.hours(1),
  parallelizationFactor: 1,
} as const;

export interface InvitationsStackProps extends StackProps {
  readonly config: StackConfig;
}

export class InvitationsStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly deadLetterQueue: sqs.Queue;
  /** Every function by its id: the route ids, `authorizer`, and the event functions' ids. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;

  constructor(scope: Construct, id: string, props: InvitationsStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('service', SERVICE_NAME);

    const removalPolicy = config.data.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = config.observability.logRetentionDays as logs.RetentionDays;
    const functions = new Map<string, ServiceFunction>();
    const newFunction = (fnId: string, entry: string, kind: FunctionKind, environment: Record<string, string>, description: string) => {
      const fn = new ServiceFunction(this, pascalCase(fnId), {
        entry,
        functionName: `${config.stackName}-${fnId}`,
        description,
        environment,
        logRetention,
        removalPolicy,
        ...FUNCTION_SIZES[kind],
      });
      functions.set(fnId, fn);
      return fn;
    };

    // ---------------------------------------------------------------- table
    const { partitionKey, sortKey, ttlAttribute, invitationsByCreatedIndex: lsi, userOrganizationsIndex: byUser, pendingEmailIndex: pending } =
      tableSchema;
    const key = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: key(partitionKey),
      sortKey: key(sortKey),
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.data.deletionProtection,
      removalPolicy,
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
      ],
    });
    const indexNames = [lsi.name, byUser.name, pending.name];
    const grantTable = (fn: ServiceFunction, actions: readonly DynamoDbAction[]) => {
      if (actions.length === 0) return;
      fn.role.addToPolicy(new iam.PolicyStatement({ sid: 'Table', actions: [...actions], resources: [this.table.tableArn] }));
      if (actions.includes('dynamodb:Query')) {
        fn.role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'QueryIndexes',
            actions: ['dynamodb:Query'],
            resources: indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
          }),
        );
      }
    };

    // ---------------------------------------------------------------- dead-letter queue
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: the on-failure destination of the delivery event source mapping and of the feedback function. cdk-nag only recognizes redrive policies and function DeadLetterConfig as DLQ uses.',
    });

    // ---------------------------------------------------------------- SES
    const configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
    });
    const configurationSetArn = this.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: configurationSet.configurationSetName,
    });
    const feedbackTopic = new sns.Topic(this, 'EmailEventsTopic', {
      displayName: 'SES bounce, complaint, delivery and reject events of invitation emails',
      enforceSSL: true,
    });
    configurationSet.addEventDestination('EmailEventsToSns', {
      destination: ses.EventDestination.snsTopic(feedbackTopic),
      events: [
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.DELIVERY,
        ses.EmailSendingEvent.REJECT,
      ],
    });
    const { senderDomain } = config.email;
    const identity: ses.IEmailIdentity = config.email.useExistingIdentity
      ? ses.EmailIdentity.fromEmailIdentityName(this, 'SenderIdentity', config.email.identityName)
      : new ses.EmailIdentity(this, 'SenderIdentity', {
          identity: senderDomain ? ses.Identity.domain(senderDomain) : ses.Identity.email(config.email.senderEmail),
          configurationSet,
          ...(senderDomain && {
            dkimSigning: true,
            dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
          }),
        });
    // In the SES sandbox, SES also authorizes the send against each (verified) recipient identity.
    const sandboxRecipientArns = config.email.sandboxRecipients.map((name) =>
      this.formatArn({ service: 'ses', resource: 'identity', resourceName: name }),
    );
    const grantSendEmail = (fn: ServiceFunction) =>
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'SendInvitationEmails',
          actions: ['ses:SendEmail'],
          resources: [identity.emailIdentityArn, configurationSetArn, ...sandboxRecipientArns],
        }),
      );

    // ---------------------------------------------------------------- environments
    const common = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: config.observability.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: config.observability.logLevel,
    };
    const apiEnvironment = {
      ...common,
      TABLE_NAME: this.table.tableName,
      INVITATION_EXPIRY_SECONDS: String(config.invitations.expirySeconds),
      INVITATION_RETENTION_SECONDS: String(config.invitations.retentionSeconds),
      RATE_LIMIT_CREATE: config.invitations.rateLimitCreate,
      RATE_LIMIT_RESEND: config.invitations.rateLimitResend,
    };
    const authorizerEnvironment = {
      ...common,
      JWT_ISSUER: config.jwt.issuer,
      JWT_JWKS_URI: config.jwt.jwksUri,
      JWT_AUDIENCE: config.jwt.audience,
      JWT_CLOCK_TOLERANCE_SECONDS: String(config.jwt.clockToleranceSeconds),
    };
    const deliveryEnvironment: Record<string, string> = {
      ...common,
      TABLE_NAME: this.table.tableName,
      SENDER_EMAIL: config.email.senderEmail,
      ...(config.email.replyTo && { REPLY_TO: config.email.replyTo }),
      SES_CONFIGURATION_SET: configurationSet.configurationSetName,
      FRONTEND_URL: config.email.frontendUrl,
      BRAND_NAME: config.email.brandName,
      EMAIL_SEND_ATTEMPTS: String(config.email.sendAttempts),
      EMAIL_SWEEP_AGE_SECONDS: String(config.email.sweepAgeSeconds),
    };
    const feedbackEnvironment = { ...common, TABLE_NAME: this.table.tableName };
    // The functions validate these at cold start; fail the synth instead if they would refuse.
    loadApiConfig(apiEnvironment);
    loadAuthorizerConfig(authorizerEnvironment);
    loadDeliveryConfig(deliveryEnvironment);
    loadTableConfig(feedbackEnvironment);

    // ---------------------------------------------------------------- API
    const authorizerFn = newFunction('authorizer', authorizerEntry, 'api', authorizerEnvironment, 'JWT authorizer of every route');
    const authorizer = new HttpLambdaAuthorizer('JwtAuthorizer', authorizerFn.function, {
      authorizerName: 'jwt',
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: Duration.minutes(5),
      responseTypes: [HttpLambdaResponseType.SIMPLE],
    });
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: config.stackName,
      description: 'Jaqpot-compatible organization invitations API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: [...config.api.allowedOrigins],
        allowMethods: corsMethods(routes),
        allowHeaders: ['authorization', 'content-type'],
        exposeHeaders: ['location', 'retry-after', 'x-next-cursor', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
        maxAge: Duration.hours(2),
      },
    });
    for (const route of routes) {
      const fn = newFunction(route.id, route.entry, 'api', route.dynamodb.length > 0 ? apiEnvironment : common, `${route.method} ${route.path}`);
      grantTable(fn, route.dynamodb);
      const integration = new HttpLambdaIntegration(`${pascalCase(route.id)}Integration`, fn.function);
      if (route.path === '$default') {
        new HttpRoute(this, `${pascalCase(route.id)}Route`, { httpApi: this.api, routeKey: HttpRouteKey.DEFAULT, integration, authorizer });
      } else {
        this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer });
      }
    }
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });

    // ---------------------------------------------------------------- email delivery
    const { deliverInvitationEmails, sweepPendingEmails, emailFeedback } = eventFunctions;
    const deliver = newFunction(
      'deliverInvitationEmails',
      deliverInvitationEmails.entry,
      'delivery',
      deliveryEnvironment,
      'Sends invitation emails from the table stream',
    );
    grantTable(deliver, deliverInvitationEmails.dynamodb);
    if (deliverInvitationEmails.sendsEmail) grantSendEmail(deliver);
    deliver.function.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: DELIVERY_STREAM.batchSize,
        parallelizationFactor: DELIVERY_STREAM.parallelizationFactor,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: DELIVERY_STREAM.retryAttempts,
        maxRecordAge: DELIVERY_STREAM.maxRecordAge,
        onFailure: new SqsDlq(this.deadLetterQueue),
        filters: [lambda.FilterCriteria.filter(deliveryStreamFilterPattern)],
      }),
    );

    const sweep = newFunction(
      'sweepPendingEmails',
      sweepPendingEmails.entry,
      'sweep',
      deliveryEnvironment,
      'Re-drives invitation emails still pending after the sweep age',
    );
    grantTable(sweep, sweepPendingEmails.dynamodb);
    if (sweepPendingEmails.sendsEmail) grantSendEmail(sweep);
    new events.Rule(this, 'SweepSchedule', {
      description: 'Re-drives invitation emails the stream did not deliver',
      schedule: events.Schedule.rate(Duration.minutes(config.email.sweepIntervalMinutes)),
      // The next run comes soon enough; no retries piling up behind it.
      targets: [new targets.LambdaFunction(sweep.function, { retryAttempts: 0 })],
    });

    const feedback = newFunction('emailFeedback', emailFeedback.entry, 'feedback', feedbackEnvironment, 'Records SES bounces and complaints');
    grantTable(feedback, emailFeedback.dynamodb);
    feedback.function.addEventSource(new SnsEventSource(feedbackTopic));
    // SNS invokes asynchronously: after Lambda's retries, keep the event rather than drop it.
    feedback.function.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });

    this.functions = functions;

    // ---------------------------------------------------------------- alarms
    let alarmTopic: sns.ITopic | undefined;
    if (config.observability.alarmTopicArn) {
      alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', config.observability.alarmTopicArn);
    } else if (config.observability.alarmEmail) {
      const topic = new sns.Topic(this, 'AlarmTopic', { displayName: `${config.stackName} alarms`, enforceSSL: true });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
            ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
          },
        }),
      );
      alarmTopic = topic;
    }
    if (alarmTopic && config.observability.alarmEmail) {
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.observability.alarmEmail));
    }
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (alarmTopic) {
        created.addAlarmAction(new SnsAction(alarmTopic));
        created.addOkAction(new SnsAction(alarmTopic));
      }
      return created;
    };
    alarm('Api5xxAlarm', this.api.metricServerError({ period, statistic: 'Sum' }), 'The API answered 5xx');
    for (const [fnId, fn] of functions) {
      if (fnId === 'authorizer') {
        // The authorizer fails by design on every bad or expired token (that is how API Gateway
        // answers 401), so its plain error count is noise. Alarm when most calls fail instead:
        // the signature of a wrong issuer, JWKS URI or audience, or an unreachable issuer.
        alarm(
          'AuthorizerErrorsAlarm',
          new cloudwatch.MathExpression({
            expression: `IF(invocations >= ${AUTHORIZER_ALARM.minInvocations}, 100 * errors / invocations, 0)`,
            usingMetrics: {
              errors: fn.function.metricErrors({ period, statistic: 'Sum' }),
              invocations: fn.function.metricInvocations({ period, statistic: 'Sum' }),
            },
            period,
            label: 'authorizer rejections (%)',
          }),
          `More than ${AUTHORIZER_ALARM.errorPercent}% of token checks failed (check jwtIssuer, jwtJwksUri, jwtAudience)`,
          AUTHORIZER_ALARM.errorPercent,
        );
      } else {
        alarm(`${pascalCase(fnId)}ErrorsAlarm`, fn.function.metricErrors({ period, statistic: 'Sum' }), `${fnId} failed`);
      }
      alarm(`${pascalCase(fnId)}ThrottlesAlarm`, fn.function.metricThrottles({ period, statistic: 'Sum' }), `${fnId} was throttled`);
    }
    alarm(
      'DeadLetterQueueAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Email deliveries or feedback events reached the dead-letter queue',
    );
    alarm(
      'EmailsFailedAlarm',
      new cloudwatch.Metric({
        namespace: config.observability.metricsNamespace,
        metricName: 'EmailsFailed',
        dimensionsMap: { service: SERVICE_NAME },
        statistic: 'Sum',
        period,
      }),
      'SES refused invitation emails permanently (see lastError on the invitations)',
    );

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'SesIdentity', { value: config.email.identityName, description: 'SES identity to verify' });
    new CfnOutput(this, 'SesConfigurationSet', { value: configurationSet.configurationSetName });
    if (identity instanceof ses.EmailIdentity && senderDomain) {
      identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, { value: `${record.name} CNAME ${record.value}`, description: 'DNS record for Easy DKIM' });
      });
    }
  }
}

/** The authorizer's alarm: the share of failed token checks, once there are enough of them. */
export const AUTHORIZER_ALARM = { minInvocations: 20, errorPercent: 50 } as const;

type FunctionKind = 'api' | 'delivery' | 'sweep' | 'feedback';

/** Request-path functions get more memory (and with it CPU) for short cold starts. */
export const FUNCTION_SIZES: Record<FunctionKind, { memorySize: number; timeout: Duration }> = {
  api: { memorySize: 512, timeout: Duration.seconds(10) },
  delivery: { memorySize: 256, timeout: Duration.seconds(60) },
  sweep: { memorySize: 256, timeout: Duration.minutes(2) },
  feedback: { memorySize: 256, timeout: Duration.seconds(30) },
};

/** HTTP API access log: one JSON object per request. */
export const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    httpMethod: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    errorMessage: '$context.error.message',
  }),
);

function corsMethods(table: readonly Route[]): CorsHttpMethod[] {
  const methods = new Set(table.map((route) => route.method).filter((method) => method !== 'ANY'));
  return [...methods].sort().map((method) => CorsHttpMethod[method as Exclude<Route['method'], 'ANY'>]);
}

function pascalCase(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
