/**
 * Alarms on the API's 5xx, every function's errors and throttles, the dead-letter queue and
 * permanently failed emails; actions go to an existing SNS topic (alarmTopicArn) or to a new one
 * with an email subscription (alarmEmail), or nowhere.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StackConfig } from './config.ts';
import { pascalCase, SERVICE_NAME } from './functions.ts';
import type { ServiceFunction } from './service-function.ts';

/** The authorizer's alarm: the share of failed token checks, once there are enough of them. */
export const AUTHORIZER_ALARM = { minInvocations: 20, errorPercent: 50 } as const;

export interface AlarmsProps {
  readonly config: StackConfig;
  readonly api: HttpApi;
  /** Every function by its id (see InvitationsStack.functions). */
  readonly functions: ReadonlyMap<string, ServiceFunction>;
  readonly deadLetterQueue: sqs.Queue;
  /** The SNS → feedback function subscription's dead-letter queue. */
  readonly feedbackSubscriptionDeadLetterQueue?: sqs.Queue;
  /** The event-publishing pipe's dead-letter queue. */
  readonly eventsDeadLetterQueue?: sqs.Queue;
  /** The webhook rule target's dead-letter queue (with webhookUrl only). */
  readonly webhookDeadLetterQueue?: sqs.Queue;
  /** An existing topic for the alarm actions (InvitationsService's alarmTopic prop); else alarmTopicArn/alarmEmail. */
  readonly alarmTopic?: sns.ITopic;
}

/** Creates the alarms; returns the topic their actions go to, if any. */
export function createAlarms(scope: Construct, props: AlarmsProps): sns.ITopic | undefined {
  const { config, api, functions, deadLetterQueue, feedbackSubscriptionDeadLetterQueue, eventsDeadLetterQueue, webhookDeadLetterQueue } = props;
  const alarmTopic = createAlarmTopic(scope, config, props.alarmTopic);
  const period = Duration.minutes(5);
  const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
    const created = new cloudwatch.Alarm(scope, alarmId, {
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
  alarm('Api5xxAlarm', api.metricServerError({ period, statistic: 'Sum' }), 'The API answered 5xx');
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
    deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    'Email deliveries or feedback events reached the dead-letter queue',
  );
  if (feedbackSubscriptionDeadLetterQueue) {
    alarm(
      'FeedbackSubscriptionDeadLetterQueueAlarm',
      feedbackSubscriptionDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'SNS could not deliver SES bounce or complaint notifications to the feedback function (see the feedback subscription dead-letter queue)',
    );
  }
  if (eventsDeadLetterQueue) {
    alarm(
      'EventsDeadLetterQueueAlarm',
      eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Events could not be published to the event bus after the pipe\'s retries (see the events dead-letter queue)',
    );
  }
  if (webhookDeadLetterQueue) {
    alarm(
      'WebhookDeadLetterQueueAlarm',
      webhookDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Events could not be POSTed to webhookUrl after retries (see the webhook dead-letter queue)',
    );
  }
  alarm(
    'EmailsFailedAlarm',
    new cloudwatch.Metric({
      namespace: config.observability.metricsNamespace,
      metricName: 'EmailsFailed',
      dimensionsMap: { service: SERVICE_NAME },
      statistic: 'Sum',
      period,
    }),
    'Invitation emails failed permanently: SES refused them, or they could not go out before the invitation expired (see lastError on the invitations)',
  );
  return alarmTopic;
}

/** The given or configured topic, a new one for alarmEmail, or none (alarms without actions). */
function createAlarmTopic(scope: Construct, config: StackConfig, existing: sns.ITopic | undefined): sns.ITopic | undefined {
  const { alarmTopicArn, alarmEmail } = config.observability;
  let alarmTopic: sns.ITopic | undefined = existing;
  if (alarmTopic) {
    // Given as a construct: nothing to create.
  } else if (alarmTopicArn) {
    alarmTopic = sns.Topic.fromTopicArn(scope, 'AlarmTopic', alarmTopicArn);
  } else if (alarmEmail) {
    const topic = new sns.Topic(scope, 'AlarmTopic', { displayName: `${config.namePrefix} alarms`, enforceSSL: true });
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
  if (alarmTopic && alarmEmail) {
    alarmTopic.addSubscription(new subscriptions.EmailSubscription(alarmEmail));
  }
  return alarmTopic;
}
