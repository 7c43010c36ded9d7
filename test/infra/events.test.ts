/**
 * Event publishing in the template (infra/events.ts): the bus (or the given one), the pipe from
 * the table stream with the shared filter, its retries and dead-letter queue, the enrichment,
 * the target parameters the local pipe also uses, PutEvents only on that bus, the alarm, and the
 * optional webhook rule and API destination. Every synth here also runs cdk-nag.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_PIPE, EVENT_SOURCE, eventStreamFilterPattern } from '../../shared/deployment/event-publishing.ts';
import { StackConfigError } from '../../infra/config.ts';
import { WEBHOOK_API_KEY_HEADER } from '../../infra/events.ts';
import { actionsOf, logicalId, resourcesOfType, roleStatements, synth, type Synthesized } from './helpers.ts';
import { TARGETS_PER_RULE } from '../../infra/timers.ts';
import { TIMER_WORKERS } from '../../shared/domain/sharding.ts';

const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/shared-bus';
const WEBHOOK_URL = 'https://hooks.acme.test/jaqpot';

let built: Synthesized;
let template: Template;

beforeAll(() => {
  built = synth();
  template = built.template;
});

const ids = (b: Synthesized) => {
  const ep = b.stack.eventPublishing;
  return { bus: b.stack.resolve(ep.bus.eventBusArn), queue: logicalId(b, ep.deadLetterQueue), role: logicalId(b, ep.pipeRole) };
};

describe('event publishing', () => {
  it('creates a custom event bus named after the stack', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'JaqpotInvitations-events' });
  });

  it('pipes new event items from the table stream, with the shared filter, through the enrichment to the bus', () => {
    const pipes = Object.values(resourcesOfType(template, 'AWS::Pipes::Pipe'));
    expect(pipes).toHaveLength(1);
    const pipe = pipes[0]!.Properties;
    const { bus, queue } = ids(built);
    expect(pipe.Source).toEqual({ 'Fn::GetAtt': [logicalId(built, built.stack.table), 'StreamArn'] });
    expect(pipe.SourceParameters.FilterCriteria).toEqual({ Filters: [{ Pattern: JSON.stringify(eventStreamFilterPattern) }] });
    expect(pipe.SourceParameters.DynamoDBStreamParameters).toEqual({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: EVENT_PIPE.batchSize,
      MaximumRetryAttempts: EVENT_PIPE.retryAttempts,
      MaximumRecordAgeInSeconds: EVENT_PIPE.maximumRecordAgeSeconds,
      OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
    });
    expect(pipe.Enrichment).toEqual({ 'Fn::GetAtt': [logicalId(built, built.stack.functions.get('renderEvents')!.function), 'Arn'] });
    expect(pipe.Target).toEqual(bus);
    // Exactly what the local pipe applies (local/event-pipe.ts publishedEvent).
    expect(pipe.TargetParameters).toEqual({
      EventBridgeEventBusParameters: { Source: EVENT_SOURCE, DetailType: '$.type', Time: '$.time' },
    });
    expect(EVENT_PIPE.batchSize).toBeLessThanOrEqual(10); // PutEvents' limit
  });

  it('gives the pipe role stream reading, the enrichment, PutEvents on that bus only and the dead-letter queue, nothing else', () => {
    const { bus, queue, role } = ids(built);
    const statements = roleStatements(template, role);
    expect(actionsOf(statements)).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'events:PutEvents',
      'lambda:InvokeFunction',
      'sqs:SendMessage',
    ]);
    const putEvents = statements.filter((s) => actionsOf([s]).includes('events:PutEvents'));
    expect(putEvents).toHaveLength(1);
    expect(putEvents[0]!.Resource).toEqual(bus);
    expect(statements.find((s) => actionsOf([s]).includes('sqs:SendMessage'))!.Resource).toEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    // No other role in the stack may put events.
    const putters = Object.keys(resourcesOfType(template, 'AWS::IAM::Role')).filter((r) =>
      actionsOf(roleStatements(template, r)).some((a) => a === 'events:PutEvents' || a === 'events:*'),
    );
    expect(putters).toEqual([role]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'pipes.amazonaws.com' } })] },
    });
  });

  it('gives the enrichment function nothing but its own logs', () => {
    const fn = built.stack.functions.get('renderEvents')!;
    expect(actionsOf(roleStatements(template, logicalId(built, fn.role)))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it('keeps the dead-letter queue encrypted and TLS-only, and alarms on its first message', () => {
    const { queue } = ids(built);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.Queues).includes(queue),
    );
    expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('has no webhook without webhookUrl', () => {
    // The sweep's schedule and the timer workers' schedules only (at most TARGETS_PER_RULE workers a rule).
    template.resourceCountIs('AWS::Events::Rule', 1 + Math.ceil(TIMER_WORKERS / TARGETS_PER_RULE));
    template.resourceCountIs('AWS::Events::ApiDestination', 0);
    template.resourceCountIs('AWS::Events::Connection', 0);
  });

  it('publishes to an existing bus given by eventBusArn, creating none', () => {
    const withBus = synth({ eventBusArn: BUS_ARN });
    withBus.template.resourceCountIs('AWS::Events::EventBus', 0);
    const pipe = Object.values(resourcesOfType(withBus.template, 'AWS::Pipes::Pipe'))[0]!.Properties;
    expect(pipe.Target).toBe(BUS_ARN);
    const statements = roleStatements(withBus.template, ids(withBus).role);
    expect(statements.find((s) => actionsOf([s]).includes('events:PutEvents'))!.Resource).toBe(BUS_ARN);
  });

  it('with webhookUrl, POSTs every event of the service there, with an API key, retries and a dead-letter queue', () => {
    const withHook = synth({ webhookUrl: WEBHOOK_URL });
    const t = withHook.template;
    const webhook = withHook.stack.eventPublishing.webhook!;
    t.hasResourceProperties('AWS::Events::ApiDestination', { InvocationEndpoint: WEBHOOK_URL, HttpMethod: 'POST' });
    t.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: Match.objectLike({ ApiKeyName: WEBHOOK_API_KEY_HEADER }) },
    });
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const bus = withHook.stack.resolve(withHook.stack.eventPublishing.bus.eventBusName);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: bus,
      EventPattern: { source: [EVENT_SOURCE] },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 24 * 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(withHook, webhook.deadLetterQueue), 'Arn'] } },
        }),
      ],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(withHook, webhook.deadLetterQueue), 'QueueName'] } }],
    });
  });

  it('refuses a malformed eventBusArn and a webhookUrl that is not https, listing both', () => {
    try {
      synth({ eventBusArn: 'arn:aws:sns:eu-west-1:123456789012:topic', webhookUrl: 'http://hooks.acme.test/x' });
      expect.fail('the synth should have failed');
    } catch (error) {
      expect(error).toBeInstanceOf(StackConfigError);
      expect((error as StackConfigError).problems).toEqual([
        'eventBusArn must be an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>), got "arn:aws:sns:eu-west-1:123456789012:topic"',
        'webhookUrl must be an https:// URL, got "http://hooks.acme.test/x"',
      ]);
    }
  });
});
