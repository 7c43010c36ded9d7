/**
 * Configuration from environment variables, validated once at cold start. A missing or malformed
 * value fails the container's initialization with every problem listed, rather than surfacing
 * later as a confusing runtime error. Defaults are documented in the README's configuration table.
 */
import { parseRateLimit, type RateLimitPolicy } from './domain/rate-limit.ts';
import type { InvitationTimings } from './domain/invitation.ts';
import { isValidEmail } from './domain/email.ts';
import {
  authorizerCacheTtlProblems,
  authorizerVerifierGraceSeconds,
  DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS,
} from './deployment/http-api.ts';

type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

export interface ApiConfig {
  readonly tableName: string;
  /** Only for local emulators; unset on AWS. */
  readonly dynamodbEndpoint: string | undefined;
  readonly invitations: InvitationTimings;
  readonly rateLimits: RateLimits;
  /** FRONTEND_URL: the base of the invitation links admins see (the same the emails carry). */
  readonly frontendUrl: string;
  /** EVENT_RETENTION_SECONDS: how long recorded events (the audit trail) are kept (TTL). */
  readonly eventRetentionSeconds: number;
}

/** Per-user request budgets. */
export interface RateLimits {
  /** Creating invitations (RATE_LIMIT_CREATE). */
  readonly create: RateLimitPolicy;
  readonly resend: RateLimitPolicy;
  readonly createOrganization: RateLimitPolicy;
  readonly updateOrganization: RateLimitPolicy;
}

export interface AuthorizerConfig {
  readonly issuer: string;
  readonly jwksUri: string;
  /** null: audience not checked (JWT_AUDIENCE=any). */
  readonly audience: string[] | null;
  readonly clockToleranceSeconds: number;
  /** How long API Gateway caches this authorizer's verdicts (0: not cached). */
  readonly cacheTtlSeconds: number;
  /**
   * The verifier's allowance past `exp` (and before `nbf`): the clock tolerance minus the cache
   * TTL, so that a cached verdict never outlives exp + clockToleranceSeconds.
   */
  readonly verifierGraceSeconds: number;
}

export interface DeliveryConfig {
  readonly tableName: string;
  readonly dynamodbEndpoint: string | undefined;
  /** Only for the local SES emulator. */
  readonly sesEndpoint: string | undefined;
  readonly senderEmail: string;
  readonly replyTo: string | undefined;
  readonly configurationSet: string | undefined;
  readonly frontendUrl: string;
  readonly brandName: string;
  readonly sendAttempts: number;
  readonly sweepAgeSeconds: number;
  readonly eventRetentionSeconds: number;
}

export const DEFAULTS = {
  INVITATION_EXPIRY_SECONDS: '604800', // 7 days
  INVITATION_RETENTION_SECONDS: '2592000', // 30 days
  ANSWERED_INVITATION_RETENTION_SECONDS: '31536000', // 365 days
  RATE_LIMIT_CREATE: '5/600',
  RATE_LIMIT_RESEND: '10/600',
  // As the Jaqpot server's organization endpoints.
  RATE_LIMIT_CREATE_ORGANIZATION: '10/600',
  RATE_LIMIT_UPDATE_ORGANIZATION: '5/60',
  JWT_CLOCK_TOLERANCE_SECONDS: '30',
  AUTHORIZER_CACHE_TTL_SECONDS: String(DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS),
  BRAND_NAME: 'Jaqpot',
  EMAIL_SEND_ATTEMPTS: '3',
  EMAIL_SWEEP_AGE_SECONDS: '900', // 15 minutes
  REMINDER_BEFORE_SECONDS: '172800', // 2 days; 0: no reminders
  EVENT_RETENTION_SECONDS: '31536000', // 365 days
} as const;

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const reader = new EnvReader(env);
  const config: ApiConfig = {
    tableName: reader.required('TABLE_NAME'),
    dynamodbEndpoint: reader.optionalUrl('DYNAMODB_ENDPOINT'),
    invitations: {
      expirySeconds: reader.positiveInteger('INVITATION_EXPIRY_SECONDS'),
      retentionSeconds: reader.positiveInteger('INVITATION_RETENTION_SECONDS'),
      answeredRetentionSeconds: reader.positiveInteger('ANSWERED_INVITATION_RETENTION_SECONDS'),
      reminderBeforeSeconds: reader.nonNegativeInteger('REMINDER_BEFORE_SECONDS'),
    },
    rateLimits: {
      create: reader.rateLimit('RATE_LIMIT_CREATE'),
      resend: reader.rateLimit('RATE_LIMIT_RESEND'),
      createOrganization: reader.rateLimit('RATE_LIMIT_CREATE_ORGANIZATION'),
      updateOrganization: reader.rateLimit('RATE_LIMIT_UPDATE_ORGANIZATION'),
    },
    frontendUrl: reader.requiredUrl('FRONTEND_URL'),
    eventRetentionSeconds: reader.positiveInteger('EVENT_RETENTION_SECONDS'),
  };
  reader.throwIfInvalid();
  return config;
}

/** The table and the events' retention: for functions that need nothing else (the bounce/complaint handler, the timers). */
export function loadTableConfig(env: Env = process.env): Pick<ApiConfig, 'tableName' | 'dynamodbEndpoint' | 'eventRetentionSeconds'> {
  const reader = new EnvReader(env);
  const config = {
    tableName: reader.required('TABLE_NAME'),
    dynamodbEndpoint: reader.optionalUrl('DYNAMODB_ENDPOINT'),
    eventRetentionSeconds: reader.positiveInteger('EVENT_RETENTION_SECONDS'),
  };
  reader.throwIfInvalid();
  return config;
}

export function loadDeliveryConfig(env: Env = process.env): DeliveryConfig {
  const reader = new EnvReader(env);
  const config: DeliveryConfig = {
    tableName: reader.required('TABLE_NAME'),
    dynamodbEndpoint: reader.optionalUrl('DYNAMODB_ENDPOINT'),
    sesEndpoint: reader.optionalUrl('SES_ENDPOINT'),
    senderEmail: reader.email('SENDER_EMAIL', { required: true })!,
    replyTo: reader.email('REPLY_TO', { required: false }),
    configurationSet: env.SES_CONFIGURATION_SET?.trim() || undefined,
    frontendUrl: reader.requiredUrl('FRONTEND_URL'),
    brandName: env.BRAND_NAME?.trim() || DEFAULTS.BRAND_NAME,
    sendAttempts: reader.positiveInteger('EMAIL_SEND_ATTEMPTS'),
    sweepAgeSeconds: reader.positiveInteger('EMAIL_SWEEP_AGE_SECONDS'),
    eventRetentionSeconds: reader.positiveInteger('EVENT_RETENTION_SECONDS'),
  };
  reader.throwIfInvalid();
  return config;
}

export function loadAuthorizerConfig(env: Env = process.env): AuthorizerConfig {
  const reader = new EnvReader(env);
  const audience = reader.required('JWT_AUDIENCE');
  const clockToleranceSeconds = reader.nonNegativeInteger('JWT_CLOCK_TOLERANCE_SECONDS');
  const cacheTtlSeconds = reader.nonNegativeInteger('AUTHORIZER_CACHE_TTL_SECONDS');
  const config: AuthorizerConfig = {
    issuer: reader.required('JWT_ISSUER'),
    jwksUri: reader.required('JWT_JWKS_URI'),
    audience: audience.trim() === 'any' ? null : splitList(audience),
    clockToleranceSeconds,
    cacheTtlSeconds,
    verifierGraceSeconds: authorizerVerifierGraceSeconds(clockToleranceSeconds, cacheTtlSeconds),
  };
  if (config.audience?.length === 0) reader.problem('JWT_AUDIENCE must list at least one audience, or be "any"');
  for (const problem of authorizerCacheTtlProblems(cacheTtlSeconds, clockToleranceSeconds, {
    ttl: 'AUTHORIZER_CACHE_TTL_SECONDS',
    tolerance: 'JWT_CLOCK_TOLERANCE_SECONDS',
  })) {
    reader.problem(problem);
  }
  reader.throwIfInvalid();
  return config;
}

function splitList(text: string): string[] {
  return text.split(',').map((part) => part.trim()).filter(Boolean);
}

class EnvReader {
  private readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  problem(text: string) {
    this.problems.push(text);
  }

  required(name: string): string {
    const value = this.env[name]?.trim();
    if (!value) this.problem(`${name} is required`);
    return value ?? '';
  }

  private withDefault(name: keyof typeof DEFAULTS): string {
    return this.env[name]?.trim() || DEFAULTS[name];
  }

  positiveInteger(name: keyof typeof DEFAULTS): number {
    const text = this.withDefault(name);
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      this.problem(`${name} must be a positive integer`);
    }
    return value;
  }

  nonNegativeInteger(name: keyof typeof DEFAULTS): number {
    const text = this.withDefault(name);
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) this.problem(`${name} must be a non-negative integer`);
    return value;
  }

  rateLimit(name: keyof typeof DEFAULTS): RateLimitPolicy {
    try {
      return parseRateLimit(this.withDefault(name));
    } catch (error) {
      this.problem(`${name}: ${(error as Error).message}`);
      return { limit: 1, windowSeconds: 1 };
    }
  }

  optionalUrl(name: string): string | undefined {
    const value = this.env[name]?.trim();
    if (!value) return undefined;
    if (!/^https?:\/\//.test(value) || !URL.canParse(value)) this.problem(`${name} must be an http(s) URL`);
    return value;
  }

  requiredUrl(name: string): string {
    const value = this.optionalUrl(name);
    if (value === undefined) this.problem(`${name} is required`);
    return value ?? '';
  }

  email(name: string, options: { required: boolean }): string | undefined {
    const value = this.env[name]?.trim();
    if (!value) {
      if (options.required) this.problem(`${name} is required`);
      return undefined;
    }
    if (!isValidEmail(value)) this.problem(`${name} must be an email address`);
    return value;
  }

  throwIfInvalid() {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
