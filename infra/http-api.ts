/**
 * The HTTP API, generated from the route table (shared/deployment/routes.ts): a Lambda authorizer on every
 * route, CORS, stage throttling and JSON access logs; one function per route, allowed exactly
 * the DynamoDB actions its route entry lists. CORS and the authorizer cache come from
 * shared/deployment/http-api.ts, which the local gateway reproduces.
 */
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, type DomainMappingOptions, HttpMethod, HttpNoneAuthorizer, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { httpApiSettings, PREFLIGHT_ROUTE } from '../shared/deployment/http-api.ts';
import { authorizerEntry, docsRoutes, routes } from '../shared/deployment/routes.ts';
import { DOCS_ASSETS } from '../shared/docs/api-reference.ts';
import type { StackConfig } from './config.ts';
import { REPO_ROOT } from './service-function.ts';
import { pascalCase, type FunctionEnvironments, type NewFunction } from './functions.ts';
import { grantTable } from './table.ts';

const requireFromHere = createRequire(import.meta.url);

export interface HttpApiProps {
  readonly config: StackConfig;
  readonly table: dynamodb.TableV2;
  readonly environments: FunctionEnvironments;
  readonly newFunction: NewFunction;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** An existing custom domain to map the stage to (InvitationsService's domain prop). */
  readonly domain?: DomainMappingOptions;
}

export function createHttpApi(scope: Construct, props: HttpApiProps): { api: HttpApi; stage: HttpStage } {
  const { config, table, environments, newFunction } = props;
  const settings = httpApiSettings({
    routes,
    allowedOrigins: config.api.allowedOrigins,
    authorizerCacheTtlSeconds: config.api.authorizerCacheTtlSeconds,
  });
  const authorizerFn = newFunction('authorizer', authorizerEntry, 'api', environments.authorizer, 'JWT authorizer of every route');
  const authorizer = new HttpLambdaAuthorizer('JwtAuthorizer', authorizerFn.function, {
    authorizerName: 'jwt',
    identitySource: ['$request.header.Authorization'],
    resultsCacheTtl: Duration.seconds(settings.authorizer.cacheTtlSeconds),
    responseTypes: [HttpLambdaResponseType.SIMPLE],
  });
  const api = new HttpApi(scope, 'HttpApi', {
    apiName: config.namePrefix,
    description: 'Jaqpot-compatible organization invitations API',
    createDefaultStage: false,
    defaultAuthorizer: authorizer,
    corsPreflight: {
      allowOrigins: [...settings.cors.allowOrigins],
      allowMethods: settings.cors.allowMethods.map((method) => CorsHttpMethod[method as keyof typeof CorsHttpMethod]),
      allowHeaders: [...settings.cors.allowHeaders],
      exposeHeaders: [...settings.cors.exposeHeaders],
      maxAge: Duration.seconds(settings.cors.maxAgeSeconds),
    },
  });
  const integrations = new Map<string, HttpLambdaIntegration>();
  for (const route of routes) {
    const environment = route.dynamodb.length > 0 ? environments.api : environments.common;
    const fn = newFunction(route.id, route.entry, 'api', environment, `${route.method} ${route.path}`);
    grantTable(table, fn, route.dynamodb);
    const integration = new HttpLambdaIntegration(`${pascalCase(route.id)}Integration`, fn.function);
    integrations.set(route.id, integration);
    if (route.path === '$default') {
      new HttpRoute(scope, `${pascalCase(route.id)}Route`, { httpApi: api, routeKey: HttpRouteKey.DEFAULT, integration, authorizer });
    } else {
      api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer });
    }
  }
  // `$default` (with the authorizer) also catches OPTIONS, so without this route every browser
  // preflight would get the authorizer's 401. API Gateway answers preflights from the CORS
  // configuration; only a bare OPTIONS request reaches the integration: the JSON 404.
  const [preflightRoute] = api.addRoutes({
    path: PREFLIGHT_ROUTE.path,
    methods: [HttpMethod.OPTIONS],
    integration: integrations.get(PREFLIGHT_ROUTE.routeId)!,
    authorizer: new HttpNoneAuthorizer(),
  });
  Validations.of(preflightRoute!).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'Browsers send CORS preflights without credentials, so this route cannot be authorized (API Gateway guide: add OPTIONS /{proxy+} without authorization when $default has an authorizer). API Gateway answers preflights itself; anything else reaching it gets the not-found function, which reads no data and answers the JSON 404.',
  });
  if (config.api.publishDocs) addDocsRoutes(scope, api, newFunction);
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
    accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    ...(props.domain && { domainMapping: props.domain }),
  });
  return { api, stage };
}

/**
 * The API reference (context publishDocs): GET /docs with its assets and GET /openapi.yaml, public,
 * served by one function that reads no data and has no permissions beyond its logs. Explicit
 * routes, so `$default` and every API route keep the authorizer.
 */
function addDocsRoutes(scope: Construct, api: HttpApi, newFunction: NewFunction) {
  const [first] = docsRoutes;
  const fn = newFunction(first!.id, first!.entry, 'api', {}, 'API reference: GET /docs and GET /openapi.yaml (public)', {
    // Absolute paths: an app that installed this package has them in its own node_modules.
    bundledFiles: [
      join(REPO_ROOT, DOCS_ASSETS.spec),
      requireFromHere.resolve(`swagger-ui-dist/${DOCS_ASSETS.script}`),
      requireFromHere.resolve(`swagger-ui-dist/${DOCS_ASSETS.styles}`),
    ],
  });
  const integration = new HttpLambdaIntegration(`${pascalCase(first!.id)}Integration`, fn.function);
  for (const route of docsRoutes) {
    const [created] = api.addRoutes({ path: route.path, methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() });
    Validations.of(created!).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The API reference page is public by choice (context publishDocs, default off): it serves only the OpenAPI document and Swagger UI\'s static files, reads no data and has no permissions; every API route keeps the authorizer.',
    });
  }
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
