/**
 * Invitation email, in two steps the stack calls in order:
 *
 *   createEmailResources: the dead-letter queues, the SES configuration set (its bounce, complaint,
 *     delivery and reject events → SNS topic) and the sender identity
 *   createEmailFunctions: table stream (filtered) → delivery function → SES;
 *     schedule → sweep function (same delivery code) → SES;
 *     SNS topic → feedback function → table; failures → the dead-letter queue; notifications SNS
 *     could not hand to the function at all → the feedback subscription's dead-letter queue
 */
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SnsEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DELIVERY_STREAM, deliveryStreamFilterPattern } from '../shared/deployment/email-delivery-trigger.ts';
import { eventFunctions } from '../shared/deployment/routes.ts';
import type { StackConfig } from './config.ts';
import type { FunctionEnvironments, FunctionKind, NewFunction } from './functions.ts';
import type { ServiceFunction } from './service-function.ts';
import { grantTable } from './table.ts';

export { DELIVERY_STREAM };

export interface EmailResources {
  readonly deadLetterQueue: sqs.Queue;
  /**
   * The SNS → feedback function subscription's dead-letter queue: notifications SNS could not
   * deliver to the function (after its own retries, e.g. while the function is throttled or its
   * invoke permission is missing), which would otherwise be dropped.
   */
  readonly feedbackSubscriptionDeadLetterQueue: sqs.Queue;
  readonly configurationSet: ses.ConfigurationSet;
  readonly feedbackTopic: sns.Topic;
  readonly identity: ses.IEmailIdentity;
  /** ses:SendEmail from the sender identity, with the configuration set (and sandbox recipients). */
  readonly grantSendEmail: (fn: ServiceFunction) => void;
}

export function createEmailResources(scope: Construct, props: { config: StackConfig; removalPolicy: RemovalPolicy }): EmailResources {
  const { email } = props.config;
  const stack = Stack.of(scope);

  const deadLetterQueue = createDeadLetterQueue(
    scope,
    'DeadLetterQueue',
    props.removalPolicy,
    'This queue is itself the dead-letter queue: the on-failure destination of the delivery event source mapping and of the feedback function. cdk-nag only recognizes redrive policies and function DeadLetterConfig as DLQ uses.',
  );
  const feedbackSubscriptionDeadLetterQueue = createDeadLetterQueue(
    scope,
    'FeedbackSubscriptionDeadLetterQueue',
    props.removalPolicy,
    'This queue is itself a dead-letter queue: the redrive target of the SNS subscription of the feedback function. cdk-nag only recognizes SQS redrive policies and function DeadLetterConfig as DLQ uses.',
  );

  const configurationSet = new ses.ConfigurationSet(scope, 'ConfigurationSet', {
    reputationMetrics: true,
    sendingEnabled: true,
  });
  const configurationSetArn = stack.formatArn({
    service: 'ses',
    resource: 'configuration-set',
    resourceName: configurationSet.configurationSetName,
  });
  const feedbackTopic = new sns.Topic(scope, 'EmailEventsTopic', {
    displayName: 'SES bounce, complaint, delivery and reject events of invitation emails',
    enforceSSL: true,
  });
  configurationSet.addEventDestination('EmailEventsToSns', {
    destination: ses.EventDestination.snsTopic(feedbackTopic),
    events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.REJECT],
  });
  const { senderDomain } = email;
  const identity: ses.IEmailIdentity = email.useExistingIdentity
    ? ses.EmailIdentity.fromEmailIdentityName(scope, 'SenderIdentity', email.identityName)
    : new ses.EmailIdentity(scope, 'SenderIdentity', {
        identity: senderDomain ? ses.Identity.domain(senderDomain) : ses.Identity.email(email.senderEmail),
        configurationSet,
        ...(senderDomain && {
          dkimSigning: true,
          dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
        }),
      });
  // In the SES sandbox, SES also authorizes the send against each (verified) recipient identity.
  const sandboxRecipientArns = email.sandboxRecipients.map((name) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name }));
  const grantSendEmail = (fn: ServiceFunction) => {
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SendInvitationEmails',
        actions: ['ses:SendEmail'],
        resources: [identity.emailIdentityArn, configurationSetArn, ...sandboxRecipientArns],
      }),
    );
  };

  return { deadLetterQueue, feedbackSubscriptionDeadLetterQueue, configurationSet, feedbackTopic, identity, grantSendEmail };
}

export interface EmailFunctionsProps {
  readonly config: StackConfig;
  readonly table: dynamodb.TableV2;
  readonly email: EmailResources;
  readonly environments: FunctionEnvironments;
  readonly newFunction: NewFunction;
}

export function createEmailFunctions(scope: Construct, props: EmailFunctionsProps): void {
  const { config, table, email, environments, newFunction } = props;
  const { deadLetterQueue } = email;
  /** An event function with the table actions and SES permission its entry in shared/deployment/routes.ts lists. */
  const newEventFunction = (
    fnId: keyof typeof eventFunctions,
    kind: FunctionKind,
    environment: Record<string, string>,
    description: string,
  ): ServiceFunction => {
    const spec = eventFunctions[fnId];
    const fn = newFunction(fnId, spec.entry, kind, environment, description);
    grantTable(table, fn, spec.dynamodb);
    if (spec.sendsEmail) email.grantSendEmail(fn);
    return fn;
  };

  const deliver = newEventFunction('deliverInvitationEmails', 'delivery', environments.delivery, 'Sends invitation emails from the table stream');
  deliver.function.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: DELIVERY_STREAM.batchSize,
      parallelizationFactor: DELIVERY_STREAM.parallelizationFactor,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: DELIVERY_STREAM.retryAttempts,
      maxRecordAge: Duration.seconds(DELIVERY_STREAM.maxRecordAgeSeconds),
      onFailure: new SqsDlq(deadLetterQueue),
      filters: [lambda.FilterCriteria.filter(deliveryStreamFilterPattern)],
    }),
  );

  const sweep = newEventFunction(
    'sweepPendingEmails',
    'sweep',
    environments.delivery,
    'Re-drives invitation emails still pending after the sweep age',
  );
  new events.Rule(scope, 'SweepSchedule', {
    description: 'Re-drives invitation emails the stream did not deliver',
    schedule: events.Schedule.rate(Duration.minutes(config.email.sweepIntervalMinutes)),
    // The next run comes soon enough; no retries piling up behind it.
    targets: [new targets.LambdaFunction(sweep.function, { retryAttempts: 0 })],
  });

  const feedback = newEventFunction('emailFeedback', 'feedback', environments.feedback, 'Records SES bounces and complaints');
  feedback.function.addEventSource(new SnsEventSource(email.feedbackTopic, { deadLetterQueue: email.feedbackSubscriptionDeadLetterQueue }));
  // SNS invokes asynchronously: after Lambda's retries, keep the event rather than drop it.
  feedback.function.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(deadLetterQueue) });
}

/** A dead-letter queue (14 days, encrypted, TLS only); `whyDeadLetter` tells cdk-nag it is one (AwsSolutions-SQS3). */
function createDeadLetterQueue(scope: Construct, id: string, removalPolicy: RemovalPolicy, whyDeadLetter: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    removalPolicy,
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: whyDeadLetter });
  return queue;
}
