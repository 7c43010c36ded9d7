/**
 * What every function of the stack gets: a size by kind, an environment (validated here at synth
 * time), and a name and construct id derived from its route or event-function id.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { loadApiConfig, loadAuthorizerConfig, loadDeliveryConfig, loadTableConfig } from '../shared/config.ts';
import type { StackConfig } from './config.ts';
import { FUNCTION_SIZES, type FunctionKind } from '../shared/deployment/function-sizes.ts';
import { SERVICE_NAME } from '../shared/service.ts';
import { ServiceFunction, type ServiceFunctionProps } from './service-function.ts';

export { SERVICE_NAME } from '../shared/service.ts';

export { FUNCTION_SIZES, type FunctionKind } from '../shared/deployment/function-sizes.ts';

export interface FunctionEnvironments {
  /** Powertools settings only: for routes that use no table. */
  readonly common: Record<string, string>;
  readonly api: Record<string, string>;
  readonly authorizer: Record<string, string>;
  readonly delivery: Record<string, string>;
  readonly feedback: Record<string, string>;
  readonly timers: Record<string, string>;
}

export function functionEnvironments(config: StackConfig, refs: { tableName: string; configurationSetName: string }): FunctionEnvironments {
  const common = {
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: config.observability.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: config.observability.logLevel,
  };
  const api = {
    ...common,
    TABLE_NAME: refs.tableName,
    INVITATION_EXPIRY_SECONDS: String(config.invitations.expirySeconds),
    INVITATION_RETENTION_SECONDS: String(config.invitations.retentionSeconds),
    ANSWERED_INVITATION_RETENTION_SECONDS: String(config.invitations.answeredRetentionSeconds),
    REMINDER_BEFORE_SECONDS: String(config.invitations.reminderBeforeSeconds),
    RATE_LIMIT_CREATE: config.invitations.rateLimitCreate,
    RATE_LIMIT_RESEND: config.invitations.rateLimitResend,
    RATE_LIMIT_CREATE_ORGANIZATION: config.invitations.rateLimitCreateOrganization,
    RATE_LIMIT_UPDATE_ORGANIZATION: config.invitations.rateLimitUpdateOrganization,
    // The invitation links admins see (link-only invitations), as the emails build them.
    FRONTEND_URL: config.email.frontendUrl,
    EVENT_RETENTION_SECONDS: String(config.events.retentionSeconds),
  };
  const authorizer = {
    ...common,
    JWT_ISSUER: config.jwt.issuer,
    JWT_JWKS_URI: config.jwt.jwksUri,
    JWT_AUDIENCE: config.jwt.audience,
    JWT_CLOCK_TOLERANCE_SECONDS: String(config.jwt.clockToleranceSeconds),
    // The verifier subtracts the gateway's cache TTL from its grace (shared/config.ts).
    AUTHORIZER_CACHE_TTL_SECONDS: String(config.api.authorizerCacheTtlSeconds),
  };
  const delivery: Record<string, string> = {
    ...common,
    TABLE_NAME: refs.tableName,
    SENDER_EMAIL: config.email.senderEmail,
    ...(config.email.replyTo && { REPLY_TO: config.email.replyTo }),
    SES_CONFIGURATION_SET: refs.configurationSetName,
    FRONTEND_URL: config.email.frontendUrl,
    BRAND_NAME: config.email.brandName,
    EMAIL_SEND_ATTEMPTS: String(config.email.sendAttempts),
    EMAIL_SWEEP_AGE_SECONDS: String(config.email.sweepAgeSeconds),
    EVENT_RETENTION_SECONDS: String(config.events.retentionSeconds),
  };
  const feedback = { ...common, TABLE_NAME: refs.tableName, EVENT_RETENTION_SECONDS: String(config.events.retentionSeconds) };
  const timers = { ...common, TABLE_NAME: refs.tableName, EVENT_RETENTION_SECONDS: String(config.events.retentionSeconds) };
  // The functions validate these at cold start; fail the synth instead if they would refuse.
  loadApiConfig(api);
  loadAuthorizerConfig(authorizer);
  loadDeliveryConfig(delivery);
  loadTableConfig(feedback);
  loadTableConfig(timers);
  return { common, api, authorizer, delivery, feedback, timers };
}

/** Creates a ServiceFunction `<namePrefix>-<fnId>` (construct id: fnId in PascalCase) and records it. */
export type NewFunction = (
  fnId: string,
  entry: string,
  kind: FunctionKind,
  environment: Record<string, string>,
  description: string,
  options?: Pick<ServiceFunctionProps, 'bundledFiles'>,
) => ServiceFunction;

export function functionFactory(
  scope: Construct,
  props: { namePrefix: string; logRetention: logs.RetentionDays; removalPolicy: RemovalPolicy },
): { newFunction: NewFunction; functions: ReadonlyMap<string, ServiceFunction> } {
  const functions = new Map<string, ServiceFunction>();
  const newFunction: NewFunction = (fnId, entry, kind, environment, description, options) => {
    const fn = new ServiceFunction(scope, pascalCase(fnId), {
      entry,
      functionName: `${props.namePrefix}-${fnId}`,
      description,
      environment,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      memorySize: FUNCTION_SIZES[kind].memorySize,
      timeout: Duration.seconds(FUNCTION_SIZES[kind].timeoutSeconds),
      ...options,
    });
    functions.set(fnId, fn);
    return fn;
  };
  return { newFunction, functions };
}

export function pascalCase(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
