/**
 * The environment the functions see when run locally (npm start and the tests): the same
 * variables the CDK stack sets on AWS, pointed at the emulators and the local issuer.
 */
import type { LocalIssuer } from './issuer.ts';

export function localFunctionEnvironment(options: {
  tableName: string;
  dynamodbEndpoint: string;
  sesEndpoint: string;
  issuer: Pick<LocalIssuer, 'issuer' | 'jwksUri' | 'audience'>;
  overrides?: NodeJS.ProcessEnv;
}): Record<string, string> {
  const defaults: Record<string, string> = {
    TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
    AWS_REGION: 'us-east-1',
    // DynamoDB Local accepts any credentials; these keep the SDK from looking for real ones.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    JWT_ISSUER: options.issuer.issuer,
    JWT_JWKS_URI: options.issuer.jwksUri,
    JWT_AUDIENCE: options.issuer.audience,
    SES_ENDPOINT: options.sesEndpoint,
    SENDER_EMAIL: 'invitations@jaqpot.local',
    FRONTEND_URL: 'http://localhost:3001',
    // Locally, re-drive stuck emails after 30 s rather than 15 minutes.
    EMAIL_SWEEP_AGE_SECONDS: '30',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  const passThrough = [
    'INVITATION_EXPIRY_SECONDS',
    'INVITATION_RETENTION_SECONDS',
    'ANSWERED_INVITATION_RETENTION_SECONDS',
    'REMINDER_BEFORE_SECONDS',
    'EVENT_RETENTION_SECONDS',
    'RATE_LIMIT_CREATE',
    'RATE_LIMIT_RESEND',
    'RATE_LIMIT_CREATE_ORGANIZATION',
    'RATE_LIMIT_UPDATE_ORGANIZATION',
    'FRONTEND_URL',
    'SENDER_EMAIL',
    'REPLY_TO',
    'BRAND_NAME',
    'EMAIL_SWEEP_AGE_SECONDS',
    'POWERTOOLS_LOG_LEVEL',
    // The gateway's settings, as the stack's context keys allowedOrigins and authorizerCacheTtlSeconds.
    'ALLOWED_ORIGINS',
    'AUTHORIZER_CACHE_TTL_SECONDS',
  ];
  for (const name of passThrough) {
    const value = options.overrides?.[name];
    if (value !== undefined) defaults[name] = value;
  }
  return defaults;
}
