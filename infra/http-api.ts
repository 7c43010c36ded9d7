/**
 * The HTTP API, generated from the route table (shared/routes.ts): a Lambda authorizer on every
 * route, CORS, stage throttling and JSON access logs; one function per route, allowed exactly
 * the DynamoDB actions its route entry lists.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { authorizerEntry, routes, type Route } from '../shared/routes.ts';
import type { StackConfig } from './config.ts';
import { pascalCase, type FunctionEnvironments, type NewFunction } from './functions.ts';
import { grantTable } from './table.ts';

export interface HttpApiProps {
  readonly config: StackConfig;
  readonly table: dynamodb.TableV2;
  readonly environments: FunctionEnvironments;
  readonly newFunction: NewFunction;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export function createHttpApi(scope: Construct, props: HttpApiProps): { api: HttpApi; stage: HttpStage } {
  const { config, table, environments, newFunction } = props;
  const authorizerFn = newFunction('authorizer', authorizerEntry, 'api', environments.authorizer, 'JWT authorizer of every route');
  const authorizer = new HttpLambdaAuthorizer('JwtAuthorizer', authorizerFn.function, {
    authorizerName: 'jwt',
    identitySource: ['$request.header.Authorization'],
    resultsCacheTtl: Duration.minutes(5),
    responseTypes: [HttpLambdaResponseType.SIMPLE],
  });
  const api = new HttpApi(scope, 'HttpApi', {
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
    const environment = route.dynamodb.length > 0 ? environments.api : environments.common;
    const fn = newFunction(route.id, route.entry, 'api', environment, `${route.method} ${route.path}`);
    grantTable(table, fn, route.dynamodb);
    const integration = new HttpLambdaIntegration(`${pascalCase(route.id)}Integration`, fn.function);
    if (route.path === '$default') {
      new HttpRoute(scope, `${pascalCase(route.id)}Route`, { httpApi: api, routeKey: HttpRouteKey.DEFAULT, integration, authorizer });
    } else {
      api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer });
    }
  }
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
    accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
  });
  return { api, stage };
}

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
