/**
 * Fine-grained assertions on the synthesized template (functions not bundled: see
 * bundling.test.ts for that). Every synth here also runs cdk-nag's AwsSolutions checks.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableSchema } from '../../shared/deployment/table-schema.ts';
import { TIMER_SHARDS, TIMER_WORKERS, timerShardsOfWorker } from '../../shared/domain/sharding.ts';
import { deliveryStreamFilterPattern } from '../../shared/deployment/email-delivery-trigger.ts';
import { authorizerEntry, eventFunctions, queriedIndexes, routes, tableActions, type DynamoDbGrant, type Route } from '../../shared/deployment/routes.ts';
import { AUTHORIZER_ALARM, DELIVERY_STREAM, SERVICE_NAME } from '../../infra/stack.ts';
import type { ServiceFunction } from '../../infra/service-function.ts';
import { actionsOf, logicalId, resourcesOfType, roleStatements, synth, type Synthesized } from './helpers.ts';

const STACK_NAME = 'JaqpotInvitations';
const EVENT_FUNCTION_IDS = Object.keys(eventFunctions);
/** The event pipe's enrichment (infra/events.ts), besides the event functions of the route table. */
const PIPE_FUNCTION_IDS = ['renderEvents'];
const ALL_FUNCTION_IDS = [...routes.map((r) => r.id), 'authorizer', ...EVENT_FUNCTION_IDS, ...PIPE_FUNCTION_IDS];
const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

let built: Synthesized;
let template: Template;

beforeAll(() => {
  built = synth();
  template = built.template;
});

function fn(id: string): ServiceFunction {
  const found = built.stack.functions.get(id);
  if (!found) throw new Error(`no function ${id}`);
  return found;
}

function functionResource(id: string) {
  return template.toJSON().Resources[logicalId(built, fn(id).function)] as { Properties: Record<string, any> };
}

function statementsOf(id: string) {
  return roleStatements(template, logicalId(built, fn(id).role));
}

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives a reason with every acknowledgement', () => {
    // Validations.acknowledge() records { [ruleId]: reason } in the construct's metadata.
    const acknowledgements = built.stack.node
      .findAll()
      .flatMap((construct: IConstruct) =>
        construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY),
      )
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    // APIG4 on the preflight route (no authorizer by design); SQS3 ("queue without a DLQ") on the
    // three queues that are themselves dead-letter queues (email, feedback subscription, event pipe).
    expect(acknowledgements.map(([id]) => id).sort()).toEqual([
      'Annotation::AwsSolutions-APIG4',
      'Annotation::AwsSolutions-SQS3',
      'Annotation::AwsSolutions-SQS3',
      'Annotation::AwsSolutions-SQS3',
    ]);
    for (const [id, reason] of acknowledgements) expect(reason.length, id).toBeGreaterThan(40);
  });

  it('fails the synth on a finding that is not acknowledged (the plugin is wired like infra/build.ts does)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new sqs.Queue(new Stack(app, 'Probe'), 'PlainQueue');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});

describe('functions', () => {
  it('creates one function per route, plus the authorizer, the delivery, the sweep and the feedback functions', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(routes.length + 1 + EVENT_FUNCTION_IDS.length + PIPE_FUNCTION_IDS.length);
    const names = Object.values(functions).map((f) => f.Properties.FunctionName);
    expect(names.sort()).toEqual(ALL_FUNCTION_IDS.map((id) => `${STACK_NAME}-${id}`).sort());
    // Routes sharing a handler file still get a function each.
    expect(routes.filter((r) => r.entry === 'functions/list-user-organizations.ts').map((r) => r.id)).toHaveLength(2);
  });

  it('runs Node.js 24 on arm64 with an explicit log group that has a retention', () => {
    for (const id of ALL_FUNCTION_IDS) {
      const props = functionResource(id).Properties;
      expect(props, id).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(props.LoggingConfig.LogGroup, id).toEqual({ Ref: logicalId(built, fn(id).logGroup) });
      expect(props.Environment.Variables.NODE_OPTIONS, id).toBe('--enable-source-maps');
    }
    const logGroups = Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(ALL_FUNCTION_IDS.length + 1); // + API access logs
    for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('gives each kind of function exactly the configuration it validates at cold start', () => {
    const env = (id: string) => functionResource(id).Properties.Environment.Variables as Record<string, unknown>;
    const common = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: 'JaqpotInvitations',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const table = { Ref: logicalId(built, built.stack.table) };
    expect(env('createInvitations')).toEqual({
      ...common,
      TABLE_NAME: table,
      INVITATION_EXPIRY_SECONDS: '604800',
      INVITATION_RETENTION_SECONDS: '2592000',
      ANSWERED_INVITATION_RETENTION_SECONDS: '31536000',
      REMINDER_BEFORE_SECONDS: '172800',
      EVENT_RETENTION_SECONDS: '31536000',
      RATE_LIMIT_CREATE: '5/600',
      RATE_LIMIT_RESEND: '10/600',
      RATE_LIMIT_CREATE_ORGANIZATION: '10/600',
      RATE_LIMIT_UPDATE_ORGANIZATION: '5/60',
      FRONTEND_URL: 'https://app.example.com',
    });
    expect(env('notFound')).toEqual(common);
    expect(env('authorizer')).toEqual({
      ...common,
      JWT_ISSUER: 'https://keycloak.example.com/realms/jaqpot',
      JWT_JWKS_URI: 'https://keycloak.example.com/realms/jaqpot/protocol/openid-connect/certs',
      JWT_AUDIENCE: 'jaqpot-frontend',
      JWT_CLOCK_TOLERANCE_SECONDS: '30',
      AUTHORIZER_CACHE_TTL_SECONDS: '10',
    });
    const delivery = {
      ...common,
      TABLE_NAME: table,
      SENDER_EMAIL: 'invitations@example.com',
      SES_CONFIGURATION_SET: { Ref: Match.stringLikeRegexp('^ConfigurationSet') },
      FRONTEND_URL: 'https://app.example.com',
      BRAND_NAME: 'Jaqpot',
      EMAIL_SEND_ATTEMPTS: '3',
      EMAIL_SWEEP_AGE_SECONDS: '900',
      EVENT_RETENTION_SECONDS: '31536000',
    };
    for (const id of ['deliverInvitationEmails', 'sweepPendingEmails']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `${STACK_NAME}-${id}`,
        Environment: { Variables: Match.exact(delivery) },
      });
    }
    expect(env('emailFeedback')).toEqual({ ...common, TABLE_NAME: table, EVENT_RETENTION_SECONDS: '31536000' });
    expect(env('fireInvitationTimers')).toEqual({ ...common, TABLE_NAME: table, EVENT_RETENTION_SECONDS: '31536000' });
  });

  it('fails the synth when a function would refuse its configuration at cold start', () => {
    expect(() => synth({ rateLimitResend: '0/60' })).toThrow(/rateLimitResend/);
  });
});

/** The IAM actions a grant list adds to a role (Query once, on the table and/or its indexes). */
const grantedActions = (grants: readonly DynamoDbGrant[]): string[] => [
  ...tableActions(grants),
  ...(queriedIndexes(grants).length > 0 ? ['dynamodb:Query'] : []),
];

describe('least privilege', () => {
  const tableArn = () => ({ 'Fn::GetAtt': [logicalId(built, built.stack.table), 'Arn'] });

  it.each(routes.map((route) => [route.id, route] as const))('%s may do exactly what its route needs', (id, route: Route) => {
    const statements = statementsOf(id);
    const expected = [...LOG_ACTIONS, ...grantedActions(route.dynamodb)];
    expect(actionsOf(statements)).toEqual([...new Set(expected)].sort());
    const tableStatement = statements.find((s) => s.Sid === 'Table');
    if (tableActions(route.dynamodb).length === 0) expect(tableStatement).toBeUndefined();
    else expect(tableStatement?.Resource).toEqual(tableArn());
  });

  it('lets read-only functions not write', () => {
    for (const id of ['getInvitation', 'getOrganization', 'listInvitations', 'listOrganizations', 'listUserOrganizations', 'listMyInvitations', 'notFound']) {
      const actions = actionsOf(statementsOf(id));
      for (const write of WRITE_ACTIONS) expect(actions, id).not.toContain(write);
    }
    expect(actionsOf(statementsOf('getInvitation'))).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', ...LOG_ACTIONS]);
  });

  it('updates organizations field by field and never deletes (an old name becomes an alias; an ADMIN member\'s authority is checked)', () => {
    expect(actionsOf(statementsOf('updateOrganization'))).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...LOG_ACTIONS].sort(),
    );
  });

  it('queries only the indexes each function names, never index/*', () => {
    const functionsWithGrants: Array<[string, readonly DynamoDbGrant[]]> = [
      ...routes.map((route) => [route.id, route.dynamodb] as [string, readonly DynamoDbGrant[]]),
      ...Object.entries(eventFunctions).map(([id, spec]) => [id, spec.dynamodb] as [string, readonly DynamoDbGrant[]]),
    ];
    for (const [id, grants] of functionsWithGrants) {
      const queryIndexes = statementsOf(id).find((s) => s.Sid === 'QueryIndexes');
      const indexes = queriedIndexes(grants);
      if (indexes.length === 0) {
        expect(queryIndexes, id).toBeUndefined();
        continue;
      }
      expect(queryIndexes, id).toMatchObject({ Action: 'dynamodb:Query' });
      const resources = JSON.stringify(queryIndexes!.Resource);
      expect(resources).not.toContain('*');
      const named = [
        tableSchema.invitationsByCreatedIndex.name,
        tableSchema.userOrganizationsIndex.name,
        tableSchema.pendingEmailIndex.name,
        tableSchema.inviteeInvitationsIndex.name,
      ];
      for (const name of named) expect(resources.includes(`/index/${name}"`), `${id} on ${name}`).toBe(indexes.includes(name));
    }
    expect(queriedIndexes(routes.find((r) => r.id === 'listUserOrganizations')!.dynamodb)).toEqual([tableSchema.userOrganizationsIndex.name]);
    expect(queriedIndexes(routes.find((r) => r.id === 'listMyInvitations')!.dynamodb)).toEqual([tableSchema.inviteeInvitationsIndex.name]);
  });

  it('lets only the delivery and sweep functions send email, and only as the configured identity and configuration set', () => {
    const senders = ALL_FUNCTION_IDS.filter((id) => actionsOf(statementsOf(id)).some((action) => action.startsWith('ses:')));
    expect(senders.sort()).toEqual(['deliverInvitationEmails', 'sweepPendingEmails']);
    for (const id of senders) {
      const send = statementsOf(id).find((s) => s.Sid === 'SendInvitationEmails')!;
      expect(send.Action).toBe('ses:SendEmail');
      const resources = JSON.stringify(send.Resource);
      expect(resources).toMatch(/:identity\/".*"Ref":"SenderIdentity/);
      expect(resources).toMatch(/:configuration-set\/".*"Ref":"ConfigurationSet/);
      expect(send.Resource).toHaveLength(2);
    }
  });

  it('gives the event functions their DynamoDB actions, stream reading and dead-letter sending', () => {
    const stream = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    const sqsSend = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
    const expected = {
      deliverInvitationEmails: [...LOG_ACTIONS, ...grantedActions(eventFunctions.deliverInvitationEmails.dynamodb), ...stream, 'ses:SendEmail', ...sqsSend],
      sweepPendingEmails: [...LOG_ACTIONS, ...grantedActions(eventFunctions.sweepPendingEmails.dynamodb), 'ses:SendEmail'],
      emailFeedback: [...LOG_ACTIONS, ...grantedActions(eventFunctions.emailFeedback.dynamodb), ...sqsSend],
      fireInvitationTimers: [...LOG_ACTIONS, ...grantedActions(eventFunctions.fireInvitationTimers.dynamodb)],
      authorizer: [...LOG_ACTIONS],
    };
    for (const [id, actions] of Object.entries(expected)) expect(actionsOf(statementsOf(id)), id).toEqual([...new Set(actions)].sort());
    const streamStatement = statementsOf('deliverInvitationEmails').find((s) => JSON.stringify(s.Action).includes('GetRecords'))!;
    expect(streamStatement.Resource).toEqual({ 'Fn::GetAtt': [logicalId(built, built.stack.table), 'StreamArn'] });
  });

  it('uses no wildcard resource and no AWS managed policy anywhere', () => {
    for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        expect(JSON.stringify(statement.Resource)).not.toContain('*');
        expect(JSON.stringify(statement.Action)).not.toContain('*');
      }
    }
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('adds sandbox recipient identities to the send permission only when configured', () => {
    const sandbox = synth({ sesSandboxRecipients: 'tester@acme.test' });
    const statements = roleStatements(sandbox.template, logicalId(sandbox, sandbox.stack.functions.get('deliverInvitationEmails')!.role));
    const send = statements.find((s) => s.Sid === 'SendInvitationEmails')!;
    expect(send.Resource).toHaveLength(3);
    expect(JSON.stringify(send.Resource)).toContain(':identity/tester@acme.test');
  });
});

describe('table', () => {
  it('matches the schema the local setup creates: keys, LSI1, GSI1, sparse GSI2 and GSI4 with INCLUDE, sparse GSI3, stream, TTL, PITR', () => {
    const {
      partitionKey,
      sortKey,
      invitationsByCreatedIndex: lsi,
      userOrganizationsIndex: gsi1,
      pendingEmailIndex: gsi2,
      inviteeInvitationsIndex: gsi3,
      timerIndex: gsi4,
    } = tableSchema;
    const key = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ];
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: key(partitionKey, sortKey),
      LocalSecondaryIndexes: [{ IndexName: lsi.name, KeySchema: key(partitionKey, lsi.sortKey), Projection: { ProjectionType: 'ALL' } }],
      GlobalSecondaryIndexes: [
        { IndexName: gsi1.name, KeySchema: key(gsi1.partitionKey, gsi1.sortKey), Projection: { ProjectionType: 'ALL' } },
        {
          IndexName: gsi2.name,
          KeySchema: key(gsi2.partitionKey, gsi2.sortKey),
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...gsi2.projectedAttributes] },
        },
        { IndexName: gsi3.name, KeySchema: key(gsi3.partitionKey, gsi3.sortKey), Projection: { ProjectionType: 'ALL' } },
        {
          IndexName: gsi4.name,
          KeySchema: key(gsi4.partitionKey, gsi4.sortKey),
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...gsi4.projectedAttributes] },
        },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const table = Object.values(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'))[0]!;
    const attributes = table.Properties.AttributeDefinitions as Array<{ AttributeName: string; AttributeType: string }>;
    expect(attributes.map((a) => `${a.AttributeName}:${a.AttributeType}`).sort()).toEqual(
      [
        partitionKey, sortKey, lsi.sortKey, gsi1.partitionKey, gsi1.sortKey, gsi2.partitionKey, gsi2.sortKey,
        gsi3.partitionKey, gsi3.sortKey, gsi4.partitionKey, gsi4.sortKey,
      ]
        .map((name) => `${name}:S`)
        .sort(),
    );
  });

  it('can drop deletion protection and retention for test stacks', () => {
    const test = synth({ deletionProtection: 'false', removalPolicy: 'destroy' });
    test.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
    });
    test.template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    test.template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });
});

describe('API', () => {
  it('creates every route of the route table, each with the Lambda authorizer and its own function', () => {
    const allRoutes = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'));
    const apiRoutes = allRoutes.filter((r) => r.Properties.RouteKey !== 'OPTIONS /{proxy+}');
    expect(apiRoutes).toHaveLength(routes.length);
    expect(allRoutes).toHaveLength(routes.length + 1);
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    for (const route of routes) {
      const routeKey = route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
      const apiRoute = apiRoutes.find((r) => r.Properties.RouteKey === routeKey);
      expect(apiRoute, routeKey).toBeDefined();
      expect(apiRoute!.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: expect.stringMatching(/^HttpApiJwtAuthorizer/) } });
      const integrationId = (apiRoute!.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      const integration = integrations[integrationId.Ref]!;
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(logicalId(built, fn(route.id).function));
    }
    for (const route of apiRoutes) {
      expect(route.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: expect.stringMatching(/^HttpApiJwtAuthorizer/) } });
    }
  });

  it('lets browser preflights past the $default authorizer with an OPTIONS /{proxy+} route without authorization', () => {
    const apiRoutes = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'));
    const preflight = apiRoutes.filter((r) => r.Properties.RouteKey === 'OPTIONS /{proxy+}');
    expect(preflight).toHaveLength(1);
    expect(preflight[0]!.Properties.AuthorizationType).toBe('NONE');
    expect(preflight[0]!.Properties.AuthorizerId).toBeUndefined();
    // Its integration is the not-found function's (a bare OPTIONS request gets the JSON 404).
    const integrationId = (preflight[0]!.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
    const integration = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration')[integrationId.Ref]!;
    expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(logicalId(built, fn('notFound').function));
    // Every other route still has the authorizer: no route but this one is open.
    expect(apiRoutes.filter((r) => r.Properties.AuthorizationType !== 'CUSTOM')).toEqual(preflight);
  });

  it('uses one path variable name per parent path (siblings), as API Gateway requires', () => {
    const namesByParent = new Map<string, Set<string>>();
    for (const route of routes) {
      const segments = route.path.split('/');
      segments.forEach((segment, i) => {
        const variable = /^\{(\w+)\}$/.exec(segment)?.[1];
        const parent = segments.slice(0, i).map((s) => (s.startsWith('{') ? '{}' : s)).join('/');
        if (variable) namesByParent.set(parent, (namesByParent.get(parent) ?? new Set()).add(variable));
      });
    }
    for (const names of namesByParent.values()) expect(names.size).toBe(1);
  });

  it('authorizes with the authorizer function: simple responses, Authorization header, the configured short cache', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 10,
      AuthorizerUri: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [logicalId(built, fn('authorizer').function), 'Arn'] }])],
      }),
    });
    expect(authorizerEntry).toBe('functions/authorizer.ts');
    // The authorizer knows the TTL: its verifier's grace is the clock tolerance minus the TTL.
    expect(functionResource('authorizer').Properties.Environment.Variables).toMatchObject({
      JWT_CLOCK_TOLERANCE_SECONDS: '30',
      AUTHORIZER_CACHE_TTL_SECONDS: '10',
    });
    const uncached = synth({ authorizerCacheTtlSeconds: '0' });
    uncached.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 0 });
  });

  it('allows CORS for the configured origins (default: the frontend origin)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com'],
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        AllowMethods: ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'],
        ExposeHeaders: [
          'location',
          'retry-after',
          'x-next-cursor',
          'x-ratelimit-limit',
          'x-ratelimit-remaining',
          'x-ratelimit-reset',
          'idempotent-replayed',
        ],
        MaxAge: 7200,
      }),
    });
    const custom = synth({ allowedOrigins: 'https://a.acme.test,https://b.acme.test' });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://a.acme.test', 'https://b.acme.test'] }),
    });
  });

  it('throttles the default stage and writes JSON access logs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] }, Format: Match.anyValue() },
    });
    const stage = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'))[0]!;
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
  });
});

describe('email delivery', () => {
  it('feeds the delivery function from the table stream with the shared filter, bisecting, bounded retries and a DLQ', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(built, fn('deliverInvitationEmails').function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built, built.stack.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: DELIVERY_STREAM.batchSize,
      // Concurrent batches per shard: every outcome is conditional on deliverySeq, the send claim guards the send.
      ParallelizationFactor: 10,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: DELIVERY_STREAM.retryAttempts,
      MaximumRecordAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built, built.stack.deadLetterQueue), 'Arn'] } } },
    });
    const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'))[0]!;
    const filters = mapping.Properties.FilterCriteria.Filters as Array<{ Pattern: string }>;
    expect(filters).toHaveLength(1);
    expect(JSON.parse(filters[0]!.Pattern)).toEqual(deliveryStreamFilterPattern);
  });

  it('runs the sweep on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(built, fn('sweepPendingEmails').function), 'Arn'] } })],
    });
  });

  it('invokes every timer worker every minute with its own input, without retries piling up, and alarms on their errors', () => {
    const timerArn = { 'Fn::GetAtt': [logicalId(built, fn('fireInvitationTimers').function), 'Arn'] };
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter((rule) =>
      (rule.Properties.Targets as Array<{ Arn: unknown }>).some((target) => JSON.stringify(target.Arn) === JSON.stringify(timerArn)),
    );
    // At most 5 targets per rule (EventBridge's quota): ⌈64 ÷ 5⌉ = 13 rules.
    expect(rules).toHaveLength(Math.ceil(TIMER_WORKERS / 5));
    const workers: unknown[] = [];
    for (const rule of rules) {
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
      expect(rule.Properties.State).toBe('ENABLED');
      const ruleTargets = rule.Properties.Targets as Array<{ Arn: unknown; Input: string; RetryPolicy: unknown }>;
      expect(ruleTargets.length).toBeLessThanOrEqual(5);
      for (const target of ruleTargets) {
        expect(target.Arn).toEqual(timerArn);
        expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
        const input = JSON.parse(target.Input) as { worker: unknown };
        expect(Object.keys(input)).toEqual(['worker']);
        workers.push(input.worker);
      }
    }
    // Every worker once, and so every shard owned by exactly one invoked worker.
    expect([...workers].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: TIMER_WORKERS }, (_, w) => w));
    const owners = workers.flatMap((worker) => timerShardsOfWorker(worker));
    expect(owners.sort((a, b) => a - b)).toEqual(Array.from({ length: TIMER_SHARDS }, (_, shard) => shard));
    // Nor does Lambda retry a failed run: the next one, a minute later, continues.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(built, fn('fireInvitationTimers').function) }, MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: 'fireInvitationTimers failed' });
  });

  it('keeps failed deliveries 14 days in an encrypted, TLS-only dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('dead-letters SES notifications SNS cannot deliver to the feedback function: encrypted, TLS-only queue, SNS may send to it, alarm on its depth', () => {
    const queue = logicalId(built, built.stack.service.node.findChild('FeedbackSubscriptionDeadLetterQueue') as sqs.Queue);
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    expect(template.toJSON().Resources[queue].Properties).toMatchObject({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [logicalId(built, fn('emailFeedback').function), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queue, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^EmailEventsTopic') } } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
    });
  });

  it('creates the sender identity and a configuration set publishing bounce, complaint, delivery and reject events to the feedback function', () => {
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'invitations@example.com',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: Match.stringLikeRegexp('^ConfigurationSet') } },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'delivery', 'reject'],
        SnsDestination: { TopicARN: { Ref: Match.stringLikeRegexp('^EmailEventsTopic') } },
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('^EmailEventsTopic') },
      Endpoint: { 'Fn::GetAtt': [logicalId(built, fn('emailFeedback').function), 'Arn'] },
    });
  });

  it('verifies a sender domain with Easy DKIM and outputs its DNS records', () => {
    const domain = synth({ senderDomain: 'acme.test', senderEmail: 'invitations@acme.test' });
    domain.template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'acme.test',
      DkimAttributes: { SigningEnabled: true },
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
    });
    domain.template.hasOutput('DkimRecord1', {});
    const send = roleStatements(domain.template, logicalId(domain, domain.stack.functions.get('deliverInvitationEmails')!.role)).find(
      (s) => s.Sid === 'SendInvitationEmails',
    )!;
    expect(JSON.stringify(send.Resource)).toMatch(/:identity\/".*"Ref":"SenderIdentity/);
  });

  it('refers to an existing identity instead of creating one when asked', () => {
    const existing = synth({ useExistingSenderIdentity: 'true' });
    existing.template.resourceCountIs('AWS::SES::EmailIdentity', 0);
    const send = roleStatements(existing.template, logicalId(existing, existing.stack.functions.get('sweepPendingEmails')!.role)).find(
      (s) => s.Sid === 'SendInvitationEmails',
    )!;
    expect(JSON.stringify(send.Resource)).toContain(':identity/invitations@example.com');
  });
});

describe('alarms', () => {
  const alarms = (t: Template) => Object.values(resourcesOfType(t, 'AWS::CloudWatch::Alarm'));

  it('alarms on API 5xx, every function’s errors and throttles, both DLQs’ depth and email failures', () => {
    const all = alarms(template);
    expect(all).toHaveLength(1 + 2 * ALL_FUNCTION_IDS.length + 4); // + the three dead-letter queues and EmailsFailed
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const id of ALL_FUNCTION_IDS) {
      const metrics = id === 'authorizer' ? ['Throttles'] : ['Errors', 'Throttles'];
      for (const metric of metrics) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(built, fn(id).function) } }],
          Threshold: 1,
        });
      }
    }
    // The authorizer rejects bad tokens by failing: its alarm watches the share of failures.
    const authorizerRef = { Ref: logicalId(built, fn('authorizer').function) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: AUTHORIZER_ALARM.errorPercent,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('100 \\* errors / invocations') }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: authorizerRef }] },
          }),
        }),
        Match.objectLike({ Id: 'invocations', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }) }) }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'JaqpotInvitations',
      MetricName: 'EmailsFailed',
      Dimensions: [{ Name: 'service', Value: 'organization-invitations' }],
      Statistic: 'Sum',
    });
    // No topic configured: the alarms exist but notify nobody.
    for (const alarm of all) expect(alarm.Properties.AlarmActions).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 1); // the SES events topic only
  });

  it('sends alarms to a new topic with an email subscription when alarmEmail is set', () => {
    const withEmail = synth({ alarmEmail: 'ops@acme.test', metricsNamespace: 'Acme/Invitations' });
    withEmail.template.resourceCountIs('AWS::SNS::Topic', 2);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.test' });
    for (const alarm of alarms(withEmail.template)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
    withEmail.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' })]),
      },
    });
    withEmail.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Acme/Invitations', MetricName: 'EmailsFailed' });
  });

  it('sends alarms to an existing topic when alarmTopicArn is set', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
    const withTopic = synth({ alarmTopicArn: arn });
    withTopic.template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of alarms(withTopic.template)) expect(alarm.Properties.AlarmActions).toEqual([arn]);
  });
});

describe('outputs', () => {
  it('outputs the API URL, the table name and the DLQ URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    template.hasOutput('TableName', { Value: { Ref: logicalId(built, built.stack.table) } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: logicalId(built, built.stack.deadLetterQueue) } });
  });
});
