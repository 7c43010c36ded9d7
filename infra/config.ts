/**
 * The stack's configuration: CDK context values (defaults in cdk.json, overridden with
 * `--context key=value`), validated at synth time with every problem listed at once. The
 * functions' environment is derived from this, and the stack checks it again with the same
 * validators the functions run at cold start (shared/config.ts), so a stack that synthesizes
 * cannot deploy functions that refuse to start.
 */
import { DEFAULTS } from '../shared/config.ts';
import { isValidEmail } from '../shared/domain/email.ts';
import { parseRateLimit } from '../shared/domain/rate-limit.ts';
import { allowedOriginProblems, authorizerCacheTtlProblems, defaultAllowedOrigins } from '../shared/deployment/http-api.ts';

export type RemovalPolicyName = 'retain' | 'destroy';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface StackConfig {
  /** Prefix of the physical names (functions, API, event bus, pipe): the stack name for the app's own stack. */
  readonly namePrefix: string;
  readonly jwt: {
    readonly issuer: string;
    readonly jwksUri: string;
    /** As the authorizer reads it: a comma-separated list, or `any`. */
    readonly audience: string;
    readonly clockToleranceSeconds: number;
  };
  readonly email: {
    /** The From address. */
    readonly senderEmail: string;
    /** When set, the SES identity is this domain (with Easy DKIM) and senderEmail is an address at it. */
    readonly senderDomain: string | undefined;
    /** The SES identity the stack creates (or, with useExistingSenderIdentity, refers to). */
    readonly identityName: string;
    readonly useExistingIdentity: boolean;
    readonly replyTo: string | undefined;
    readonly brandName: string;
    readonly frontendUrl: string;
    readonly sendAttempts: number;
    readonly sweepAgeSeconds: number;
    readonly sweepIntervalMinutes: number;
    /** SES sandbox only: verified recipient identities the delivery functions may also send to. */
    readonly sandboxRecipients: readonly string[];
  };
  readonly api: {
    readonly allowedOrigins: readonly string[];
    /** How long API Gateway caches the authorizer's verdict per Authorization header (0: off); at most the clock tolerance. */
    readonly authorizerCacheTtlSeconds: number;
    readonly throttlingRateLimit: number;
    readonly throttlingBurstLimit: number;
    /** Publish GET /docs and GET /openapi.yaml without the authorizer (the API reference page). */
    readonly publishDocs: boolean;
  };
  readonly invitations: {
    readonly expirySeconds: number;
    readonly retentionSeconds: number;
    readonly answeredRetentionSeconds: number;
    /** 0: no reminders. */
    readonly reminderBeforeSeconds: number;
    readonly rateLimitCreate: string;
    readonly rateLimitResend: string;
    readonly rateLimitCreateOrganization: string;
    readonly rateLimitUpdateOrganization: string;
  };
  readonly observability: {
    readonly logRetentionDays: number;
    readonly logLevel: LogLevel;
    readonly metricsNamespace: string;
    readonly alarmEmail: string | undefined;
    readonly alarmTopicArn: string | undefined;
  };
  readonly events: {
    /** How long recorded events (the audit trail) are kept: their TTL. */
    readonly retentionSeconds: number;
    /** An existing event bus (same account and Region) to publish to; none: the stack creates one. */
    readonly busArn: string | undefined;
    /** When set, a rule on the bus POSTs every event here (API destination). */
    readonly webhookUrl: string | undefined;
  };
  readonly data: {
    readonly removalPolicy: RemovalPolicyName;
    readonly deletionProtection: boolean;
  };
}

/**
 * Every context key the stack reads, with its default (undefined: required or optional without
 * default). Where a function has a default of its own (shared/config.ts DEFAULTS), that is the
 * one; test/infra/config.test.ts checks that cdk.json ships these same values.
 */
export const CONTEXT_DEFAULTS = {
  stackName: 'JaqpotInvitations',
  jwtIssuer: undefined,
  jwtJwksUri: undefined,
  jwtAudience: undefined,
  jwtClockToleranceSeconds: Number(DEFAULTS.JWT_CLOCK_TOLERANCE_SECONDS),
  senderEmail: undefined,
  senderDomain: undefined,
  useExistingSenderIdentity: false,
  replyTo: undefined,
  brandName: DEFAULTS.BRAND_NAME,
  frontendUrl: undefined,
  allowedOrigins: undefined, // default: the origin of frontendUrl
  authorizerCacheTtlSeconds: Number(DEFAULTS.AUTHORIZER_CACHE_TTL_SECONDS),
  invitationExpirySeconds: Number(DEFAULTS.INVITATION_EXPIRY_SECONDS),
  invitationRetentionSeconds: Number(DEFAULTS.INVITATION_RETENTION_SECONDS),
  answeredInvitationRetentionSeconds: Number(DEFAULTS.ANSWERED_INVITATION_RETENTION_SECONDS),
  reminderBeforeSeconds: Number(DEFAULTS.REMINDER_BEFORE_SECONDS),
  eventRetentionSeconds: Number(DEFAULTS.EVENT_RETENTION_SECONDS),
  rateLimitCreate: DEFAULTS.RATE_LIMIT_CREATE,
  rateLimitResend: DEFAULTS.RATE_LIMIT_RESEND,
  rateLimitCreateOrganization: DEFAULTS.RATE_LIMIT_CREATE_ORGANIZATION,
  rateLimitUpdateOrganization: DEFAULTS.RATE_LIMIT_UPDATE_ORGANIZATION,
  emailSendAttempts: Number(DEFAULTS.EMAIL_SEND_ATTEMPTS),
  emailSweepAgeSeconds: Number(DEFAULTS.EMAIL_SWEEP_AGE_SECONDS),
  sweepIntervalMinutes: 5,
  sesSandboxRecipients: undefined,
  apiThrottlingRateLimit: 50,
  apiThrottlingBurstLimit: 100,
  publishDocs: false,
  logRetentionDays: 30,
  logLevel: 'INFO',
  metricsNamespace: 'JaqpotInvitations',
  alarmEmail: undefined,
  alarmTopicArn: undefined,
  eventBusArn: undefined,
  webhookUrl: undefined,
  removalPolicy: 'retain',
  deletionProtection: true,
  rejectExampleValues: false,
} as const;

export type ContextKey = keyof typeof CONTEXT_DEFAULTS;
/** A key the reader knows: the context keys, and `namePrefix` (props' name for `stackName`). */
type ConfigKey = ContextKey | 'namePrefix';

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256}$/;

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** Where the values come from: CDK context (the app) or the props of an InvitationsService. */
export interface ConfigSource {
  /** The key that holds the name prefix: `stackName` in the context, `namePrefix` in props. */
  readonly nameKey: 'stackName' | 'namePrefix';
  /** The first line of the error. */
  readonly description: string;
}

export const CONTEXT_SOURCE: ConfigSource = {
  nameKey: 'stackName',
  description: 'Invalid stack configuration (CDK context; set in cdk.json or with --context key=value)',
};

export class StackConfigError extends Error {
  constructor(
    readonly problems: string[],
    description = CONTEXT_SOURCE.description,
  ) {
    super(`${description}:\n- ${problems.join('\n- ')}`);
    this.name = 'StackConfigError';
  }
}

/**
 * Reads and validates the context (or an InvitationsService's props, which have the same keys
 * but `namePrefix` for `stackName`). `tryGetContext` is `app.node.tryGetContext` (values from
 * cdk.json keep their JSON type; values from `--context` are strings). `problems`: found by the
 * caller already, listed first in the same error.
 */
export function loadStackConfig(
  tryGetContext: (key: string) => unknown,
  source: ConfigSource = CONTEXT_SOURCE,
  problems: readonly string[] = [],
): StackConfig {
  const r = new ContextReader(tryGetContext, source.description);
  for (const problem of problems) r.problem(problem);

  const { nameKey } = source;
  const namePrefix = r.string(nameKey);
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(namePrefix)) {
    r.problem(`${nameKey} must start with a letter and have at most 40 letters, digits and hyphens (function names are "<${nameKey}>-<route id>")`);
  }

  const issuer = r.httpsUrl('jwtIssuer');
  const jwksUri = r.httpsUrl('jwtJwksUri');
  const audienceList = r.list('jwtAudience');
  if (audienceList.length === 0) r.problem('jwtAudience is required: the accepted "aud" values (comma-separated), or "any"');
  if (audienceList.includes('any') && audienceList.length > 1) r.problem('jwtAudience "any" cannot be combined with other audiences');

  const senderEmail = r.email('senderEmail', true)!;
  const senderDomain = r.optionalString('senderDomain')?.toLowerCase();
  if (senderDomain !== undefined) {
    if (!isValidEmail(`postmaster@${senderDomain}`)) r.problem(`senderDomain must be a domain name, got "${senderDomain}"`);
    else if (senderEmail && !senderEmail.toLowerCase().endsWith(`@${senderDomain}`)) {
      r.problem(`senderEmail (${senderEmail}) must be an address at senderDomain (${senderDomain})`);
    }
  }
  const frontendUrl = r.httpUrl('frontendUrl');
  let allowedOrigins = r.list('allowedOrigins');
  if (allowedOrigins.length === 0) allowedOrigins = defaultAllowedOrigins(frontendUrl);
  for (const problem of allowedOriginProblems(allowedOrigins, 'allowedOrigins')) r.problem(problem);

  const clockToleranceSeconds = r.nonNegativeInteger('jwtClockToleranceSeconds');
  const authorizerCacheTtlSeconds = r.nonNegativeInteger('authorizerCacheTtlSeconds');
  const ttlProblems = authorizerCacheTtlProblems(authorizerCacheTtlSeconds, clockToleranceSeconds, {
    ttl: 'authorizerCacheTtlSeconds',
    tolerance: 'jwtClockToleranceSeconds',
  });
  for (const problem of ttlProblems) r.problem(problem);

  const sandboxRecipients = r.list('sesSandboxRecipients');
  for (const address of sandboxRecipients) {
    if (!isValidEmail(address) && !isValidEmail(`postmaster@${address}`)) {
      r.problem(`sesSandboxRecipients: "${address}" is neither an email address nor a domain`);
    }
  }

  const logRetentionDays = r.positiveInteger('logRetentionDays');
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    r.problem(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  const logLevel = r.string('logLevel').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) r.problem('logLevel must be DEBUG, INFO, WARN or ERROR');
  const metricsNamespace = r.string('metricsNamespace');
  if (!/^[A-Za-z0-9._\-/#:]{1,255}$/.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    r.problem('metricsNamespace must be 1-255 of A-Z a-z 0-9 . _ - / # : and not start with "AWS/"');
  }
  const alarmTopicArn = r.optionalString('alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(alarmTopicArn)) {
    r.problem(`alarmTopicArn must be an SNS topic ARN, got "${alarmTopicArn}"`);
  }

  const eventBusArn = r.optionalString('eventBusArn');
  if (eventBusArn !== undefined && !EVENT_BUS_ARN.test(eventBusArn)) {
    r.problem(`eventBusArn must be an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>), got "${eventBusArn}"`);
  }
  const webhookUrl = r.optionalString('webhookUrl');
  if (webhookUrl !== undefined && !isHttpsUrl(webhookUrl)) r.problem(`webhookUrl must be an https:// URL, got "${webhookUrl}"`);

  const removalPolicy = r.string('removalPolicy').toLowerCase();
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') r.problem('removalPolicy must be "retain" or "destroy"');

  const throttlingRateLimit = r.positiveInteger('apiThrottlingRateLimit');
  const throttlingBurstLimit = r.positiveInteger('apiThrottlingBurstLimit');
  const sweepIntervalMinutes = r.positiveInteger('sweepIntervalMinutes');
  if (sweepIntervalMinutes > 60) r.problem('sweepIntervalMinutes must be at most 60');
  const sweepAgeSeconds = r.positiveInteger('emailSweepAgeSeconds');

  const config: StackConfig = {
    namePrefix,
    jwt: {
      issuer,
      jwksUri,
      audience: audienceList.join(','),
      clockToleranceSeconds,
    },
    email: {
      senderEmail,
      senderDomain,
      identityName: senderDomain ?? senderEmail,
      useExistingIdentity: r.boolean('useExistingSenderIdentity'),
      replyTo: r.email('replyTo', false),
      brandName: r.string('brandName'),
      frontendUrl,
      sendAttempts: r.positiveInteger('emailSendAttempts'),
      sweepAgeSeconds,
      sweepIntervalMinutes,
      sandboxRecipients,
    },
    api: { allowedOrigins, authorizerCacheTtlSeconds, throttlingRateLimit, throttlingBurstLimit, publishDocs: r.boolean('publishDocs') },
    invitations: {
      expirySeconds: r.positiveInteger('invitationExpirySeconds'),
      retentionSeconds: r.positiveInteger('invitationRetentionSeconds'),
      answeredRetentionSeconds: r.positiveInteger('answeredInvitationRetentionSeconds'),
      reminderBeforeSeconds: r.nonNegativeInteger('reminderBeforeSeconds'),
      rateLimitCreate: r.rateLimit('rateLimitCreate'),
      rateLimitResend: r.rateLimit('rateLimitResend'),
      rateLimitCreateOrganization: r.rateLimit('rateLimitCreateOrganization'),
      rateLimitUpdateOrganization: r.rateLimit('rateLimitUpdateOrganization'),
    },
    observability: {
      logRetentionDays,
      logLevel: logLevel as LogLevel,
      metricsNamespace,
      alarmEmail: r.email('alarmEmail', false),
      alarmTopicArn,
    },
    events: { retentionSeconds: r.positiveInteger('eventRetentionSeconds'), busArn: eventBusArn, webhookUrl },
    data: { removalPolicy: removalPolicy as RemovalPolicyName, deletionProtection: r.boolean('deletionProtection') },
  };

  // cdk.json ships example values so that `npm run synth` works out of the box; `npm run deploy`
  // sets rejectExampleValues so that nobody deploys them by accident.
  if (r.boolean('rejectExampleValues')) {
    const examples = (['jwtIssuer', 'jwtJwksUri', 'senderEmail', 'senderDomain', 'frontendUrl', 'alarmEmail'] as const).filter((key) =>
      isExampleValue(tryGetContext(key)),
    );
    for (const key of examples) r.problem(`${key} is still an example value (example.com/.org/.net): set your own`);
    if (audienceList.includes(SHIPPED_JWT_AUDIENCE)) {
      r.problem(
        `jwtAudience is still the value cdk.json ships ("${SHIPPED_JWT_AUDIENCE}"): set your own client id, the "aud" your identity provider puts in tokens for this API`,
      );
    }
  }

  r.throwIfInvalid();
  return config;
}

/**
 * The jwtAudience cdk.json ships so that `npm run synth` works: a client id that is not yours, so
 * `npm run deploy` refuses it like the example domains (a token of someone else's client with that
 * audience would be accepted).
 */
export const SHIPPED_JWT_AUDIENCE = 'jaqpot-frontend';

/** Hosts under the reserved example domains (RFC 2606). */
export function isExampleValue(value: unknown): boolean {
  return typeof value === 'string' && /(^|[@./])example\.(com|org|net)(?=$|[/:?#])/i.test(value.trim());
}

class ContextReader {
  private readonly problems: string[] = [];
  constructor(
    private readonly get: (key: string) => unknown,
    private readonly description: string,
  ) {}

  problem(text: string) {
    this.problems.push(text);
  }

  throwIfInvalid() {
    if (this.problems.length > 0) throw new StackConfigError(this.problems, this.description);
  }

  /** The raw value, or its default; empty strings count as unset. */
  private raw(key: ConfigKey): unknown {
    const value = this.get(key);
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      return key === 'namePrefix' ? undefined : CONTEXT_DEFAULTS[key];
    }
    return value;
  }

  optionalString(key: ConfigKey): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problem(`${key} must be a string`);
      return undefined;
    }
    return value.trim();
  }

  string(key: ConfigKey): string {
    const value = this.optionalString(key);
    if (value === undefined) {
      if (!this.problems.some((p) => p.startsWith(`${key} `))) this.problem(`${key} is required`);
      return '';
    }
    return value;
  }

  /** A JSON array of strings, or a comma-separated string. */
  list(key: ContextKey): string[] {
    const value = this.raw(key);
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
    if (!items || !items.every((item) => typeof item === 'string')) {
      this.problem(`${key} must be a comma-separated string or an array of strings`);
      return [];
    }
    return [...new Set(items.map((item) => item.trim()).filter(Boolean))];
  }

  private integer(key: ContextKey, min: number): number {
    const value = this.raw(key);
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < min) {
      this.problem(`${key} must be an integer of at least ${min}${value === undefined ? ' (it is required)' : `, got ${JSON.stringify(value)}`}`);
      return min;
    }
    return number;
  }

  positiveInteger(key: ContextKey): number {
    return this.integer(key, 1);
  }

  nonNegativeInteger(key: ContextKey): number {
    return this.integer(key, 0);
  }

  boolean(key: ContextKey): boolean {
    const value = this.raw(key);
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false' || value === undefined) return false;
    this.problem(`${key} must be true or false, got ${JSON.stringify(value)}`);
    return false;
  }

  email(key: ContextKey, required: boolean): string | undefined {
    const value = this.optionalString(key);
    if (value === undefined) {
      if (required && !this.problems.some((p) => p.startsWith(`${key} `))) this.problem(`${key} is required`);
      return undefined;
    }
    if (!isValidEmail(value)) this.problem(`${key} must be an email address, got "${value}"`);
    return value;
  }

  private url(key: ContextKey, schemes: RegExp, description: string): string {
    const value = this.string(key);
    if (value === '') return value;
    if (!schemes.test(value) || !URL.canParse(value)) this.problem(`${key} must be ${description}, got "${value}"`);
    return value;
  }

  httpsUrl(key: ContextKey): string {
    return this.url(key, /^https:\/\//, 'an https URL');
  }

  httpUrl(key: ContextKey): string {
    return this.url(key, /^https?:\/\//, 'an http(s) URL');
  }

  rateLimit(key: ContextKey): string {
    const value = this.string(key);
    try {
      parseRateLimit(value);
    } catch (error) {
      this.problem(`${key}: ${(error as Error).message}`);
    }
    return value;
  }
}
