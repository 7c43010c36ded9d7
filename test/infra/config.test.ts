import { describe, expect, it } from 'vitest';
import {
  CONTEXT_DEFAULTS,
  isExampleValue,
  loadStackConfig,
  SHIPPED_JWT_AUDIENCE,
  StackConfigError,
  type ContextKey,
  type StackConfig,
} from '../../infra/config.ts';
import { DEFAULTS } from '../../shared/config.ts';
import { CDK_JSON_CONTEXT } from './helpers.ts';

const REQUIRED = {
  jwtIssuer: 'https://login.acme.test/realms/acme',
  jwtJwksUri: 'https://login.acme.test/realms/acme/protocol/openid-connect/certs',
  jwtAudience: 'acme-frontend',
  senderEmail: 'invitations@acme.test',
  frontendUrl: 'https://app.acme.test',
};

function load(context: Record<string, unknown>): StackConfig {
  return loadStackConfig((key) => context[key]);
}

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    load(context);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    expect((error as Error).message).toMatch(/^Invalid stack configuration/);
    return (error as StackConfigError).problems;
  }
  throw new Error('expected a StackConfigError');
}

describe('loadStackConfig', () => {
  it('accepts the example context in cdk.json (npm run synth works out of the box)', () => {
    const config = load(CDK_JSON_CONTEXT);
    expect(config.namePrefix).toBe('JaqpotInvitations');
    expect(config.data).toEqual({ removalPolicy: 'retain', deletionProtection: true });
  });

  it('applies the documented defaults when only the required values are given', () => {
    expect(load(REQUIRED)).toEqual({
      namePrefix: 'JaqpotInvitations',
      jwt: {
        issuer: REQUIRED.jwtIssuer,
        jwksUri: REQUIRED.jwtJwksUri,
        audience: 'acme-frontend',
        clockToleranceSeconds: 30,
      },
      email: {
        senderEmail: 'invitations@acme.test',
        senderDomain: undefined,
        identityName: 'invitations@acme.test',
        useExistingIdentity: false,
        replyTo: undefined,
        brandName: 'Jaqpot',
        frontendUrl: 'https://app.acme.test',
        sendAttempts: 3,
        sweepAgeSeconds: 900,
        sweepIntervalMinutes: 5,
        sandboxRecipients: [],
      },
      api: { allowedOrigins: ['https://app.acme.test'], authorizerCacheTtlSeconds: 10, throttlingRateLimit: 50, throttlingBurstLimit: 100, publishDocs: false },
      invitations: {
        expirySeconds: 604800,
        retentionSeconds: 2592000,
        answeredRetentionSeconds: 31536000,
        reminderBeforeSeconds: 172800,
        rateLimitCreate: '5/600',
        rateLimitResend: '10/600',
        rateLimitCreateOrganization: '10/600',
        rateLimitUpdateOrganization: '5/60',
      },
      observability: {
        logRetentionDays: 30,
        logLevel: 'INFO',
        metricsNamespace: 'JaqpotInvitations',
        alarmEmail: undefined,
        alarmTopicArn: undefined,
      },
      events: { retentionSeconds: 31536000, busArn: undefined, webhookUrl: undefined },
      data: { removalPolicy: 'retain', deletionProtection: true },
    } satisfies StackConfig);
  });

  it('reads --context strings (numbers, booleans, comma lists) like cdk.json values', () => {
    const config = load({
      ...REQUIRED,
      jwtAudience: ' web , cli ,web',
      allowedOrigins: 'https://a.acme.test, http://localhost:3001',
      invitationExpirySeconds: '3600',
      deletionProtection: 'false',
      removalPolicy: 'DESTROY',
      logLevel: 'debug',
      logRetentionDays: '7',
      sesSandboxRecipients: 'alice@acme.test,bob@acme.test',
    });
    expect(config.jwt.audience).toBe('web,cli');
    expect(config.api.allowedOrigins).toEqual(['https://a.acme.test', 'http://localhost:3001']);
    expect(config.invitations.expirySeconds).toBe(3600);
    expect(config.data).toEqual({ removalPolicy: 'destroy', deletionProtection: false });
    expect(config.observability).toMatchObject({ logLevel: 'DEBUG', logRetentionDays: 7 });
    expect(config.email.sandboxRecipients).toEqual(['alice@acme.test', 'bob@acme.test']);
    expect(load({ ...REQUIRED, allowedOrigins: ['https://x.acme.test'] }).api.allowedOrigins).toEqual(['https://x.acme.test']);
    expect(load({ ...REQUIRED, jwtAudience: 'any' }).jwt.audience).toBe('any');
  });

  it('uses the sender domain as the SES identity when one is given', () => {
    const config = load({ ...REQUIRED, senderDomain: 'ACME.test' });
    expect(config.email).toMatchObject({ senderDomain: 'acme.test', identityName: 'acme.test', senderEmail: 'invitations@acme.test' });
  });

  it('lists every missing required value at once', () => {
    expect(problemsOf({})).toEqual([
      'jwtIssuer is required',
      'jwtJwksUri is required',
      'jwtAudience is required: the accepted "aud" values (comma-separated), or "any"',
      'senderEmail is required',
      'frontendUrl is required',
    ]);
  });

  it('explains each malformed value', () => {
    const problems = problemsOf({
      ...REQUIRED,
      stackName: '1-bad name',
      jwtIssuer: 'http://login.acme.test/realms/acme',
      jwtAudience: 'any,web',
      senderEmail: 'not an email',
      frontendUrl: 'ftp://app.acme.test',
      allowedOrigins: 'https://app.acme.test/,*',
      invitationExpirySeconds: '0',
      rateLimitCreate: '5 per minute',
      logRetentionDays: 42,
      logLevel: 'loud',
      removalPolicy: 'snapshot',
      deletionProtection: 'yes',
      alarmEmail: 'ops',
      alarmTopicArn: 'my-topic',
      metricsNamespace: 'AWS/Lambda',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stackName must start with a letter/),
        'jwtIssuer must be an https URL, got "http://login.acme.test/realms/acme"',
        'jwtAudience "any" cannot be combined with other audiences',
        'senderEmail must be an email address, got "not an email"',
        'frontendUrl must be an http(s) URL, got "ftp://app.acme.test"',
        'allowedOrigins: "https://app.acme.test/" is not an origin (scheme://host[:port], no path or trailing slash)',
        'allowedOrigins "*" cannot be combined with other origins',
        'invitationExpirySeconds must be an integer of at least 1, got "0"',
        expect.stringMatching(/^rateLimitCreate: expected "<requests>\/<seconds>"/),
        expect.stringMatching(/^logRetentionDays must be one of 1, 3, 5, 7, 14, 30/),
        'logLevel must be DEBUG, INFO, WARN or ERROR',
        'removalPolicy must be "retain" or "destroy"',
        'deletionProtection must be true or false, got "yes"',
        'alarmEmail must be an email address, got "ops"',
        'alarmTopicArn must be an SNS topic ARN, got "my-topic"',
        expect.stringMatching(/^metricsNamespace must be/),
      ]),
    );
    expect(problems).toHaveLength(16);
  });

  it('keeps the authorizer cache within the clock tolerance, so no cached verdict outlives exp + tolerance', () => {
    expect(load({ ...REQUIRED, authorizerCacheTtlSeconds: '0' }).api.authorizerCacheTtlSeconds).toBe(0);
    expect(load({ ...REQUIRED, authorizerCacheTtlSeconds: 30 }).api.authorizerCacheTtlSeconds).toBe(30);
    expect(problemsOf({ ...REQUIRED, authorizerCacheTtlSeconds: 31 })).toEqual([
      'authorizerCacheTtlSeconds (31) must be at most jwtClockToleranceSeconds (30): a cached verdict would honour a token beyond exp + 30 s',
    ]);
    expect(problemsOf({ ...REQUIRED, jwtClockToleranceSeconds: '0' })).toEqual([
      'authorizerCacheTtlSeconds (10) must be at most jwtClockToleranceSeconds (0): a cached verdict would honour a token beyond exp + 0 s',
    ]);
    // Listed with every other problem, API Gateway's own limit included.
    expect(problemsOf({ ...REQUIRED, authorizerCacheTtlSeconds: 4000, jwtClockToleranceSeconds: 5000, logLevel: 'loud' })).toEqual([
      "authorizerCacheTtlSeconds must be at most 3600 (API Gateway's limit)",
      'logLevel must be DEBUG, INFO, WARN or ERROR',
    ]);
    expect(problemsOf({ ...REQUIRED, authorizerCacheTtlSeconds: '-1' })).toEqual(['authorizerCacheTtlSeconds must be an integer of at least 0, got "-1"']);
  });

  it('requires the sender address to be at the sender domain', () => {
    expect(problemsOf({ ...REQUIRED, senderDomain: 'other.test' })).toEqual([
      'senderEmail (invitations@acme.test) must be an address at senderDomain (other.test)',
    ]);
  });

  it('refuses cdk.json example values when deploying (rejectExampleValues)', () => {
    expect(problemsOf({ ...CDK_JSON_CONTEXT, rejectExampleValues: 'true' })).toEqual([
      'jwtIssuer is still an example value (example.com/.org/.net): set your own',
      'jwtJwksUri is still an example value (example.com/.org/.net): set your own',
      'senderEmail is still an example value (example.com/.org/.net): set your own',
      'frontendUrl is still an example value (example.com/.org/.net): set your own',
      'jwtAudience is still the value cdk.json ships ("jaqpot-frontend"): set your own client id, the "aud" your identity provider puts in tokens for this API',
    ]);
    expect(() => load({ ...CDK_JSON_CONTEXT, ...REQUIRED, rejectExampleValues: true })).not.toThrow();
  });

  it('refuses the shipped jwtAudience when deploying, alone or in a list, and accepts it for synth', () => {
    expect(CDK_JSON_CONTEXT.jwtAudience).toBe(SHIPPED_JWT_AUDIENCE);
    const shipped = /^jwtAudience is still the value cdk\.json ships/;
    expect(problemsOf({ ...REQUIRED, jwtAudience: SHIPPED_JWT_AUDIENCE, rejectExampleValues: 'true' })).toEqual([expect.stringMatching(shipped)]);
    expect(problemsOf({ ...REQUIRED, jwtAudience: `acme-frontend,${SHIPPED_JWT_AUDIENCE}`, rejectExampleValues: true })).toEqual([
      expect.stringMatching(shipped),
    ]);
    expect(() => load({ ...REQUIRED, jwtAudience: SHIPPED_JWT_AUDIENCE })).not.toThrow();
    expect(() => load({ ...REQUIRED, jwtAudience: 'jaqpot-frontend-prod', rejectExampleValues: true })).not.toThrow();
  });
});

describe('defaults', () => {
  /** The context key that sets each function-side default (shared/config.ts DEFAULTS). */
  const CONTEXT_KEY_OF: Record<keyof typeof DEFAULTS, ContextKey> = {
    INVITATION_EXPIRY_SECONDS: 'invitationExpirySeconds',
    INVITATION_RETENTION_SECONDS: 'invitationRetentionSeconds',
    ANSWERED_INVITATION_RETENTION_SECONDS: 'answeredInvitationRetentionSeconds',
    REMINDER_BEFORE_SECONDS: 'reminderBeforeSeconds',
    EVENT_RETENTION_SECONDS: 'eventRetentionSeconds',
    RATE_LIMIT_CREATE: 'rateLimitCreate',
    RATE_LIMIT_RESEND: 'rateLimitResend',
    RATE_LIMIT_CREATE_ORGANIZATION: 'rateLimitCreateOrganization',
    RATE_LIMIT_UPDATE_ORGANIZATION: 'rateLimitUpdateOrganization',
    JWT_CLOCK_TOLERANCE_SECONDS: 'jwtClockToleranceSeconds',
    AUTHORIZER_CACHE_TTL_SECONDS: 'authorizerCacheTtlSeconds',
    BRAND_NAME: 'brandName',
    EMAIL_SEND_ATTEMPTS: 'emailSendAttempts',
    EMAIL_SWEEP_AGE_SECONDS: 'emailSweepAgeSeconds',
  };

  it('gives every function-side default the same value as a stack default', () => {
    for (const [name, key] of Object.entries(CONTEXT_KEY_OF) as [keyof typeof DEFAULTS, ContextKey][]) {
      expect({ key, value: String(CONTEXT_DEFAULTS[key]) }).toEqual({ key, value: DEFAULTS[name] });
    }
  });

  it('ships in cdk.json exactly the stack defaults for every defaulted key it sets', () => {
    const shipped = Object.keys(CDK_JSON_CONTEXT).filter(
      (key): key is ContextKey => key in CONTEXT_DEFAULTS && CONTEXT_DEFAULTS[key as ContextKey] !== undefined,
    );
    expect(shipped).toEqual(expect.arrayContaining(Object.values(CONTEXT_KEY_OF)));
    for (const key of shipped) expect({ key, value: CDK_JSON_CONTEXT[key] }).toEqual({ key, value: CONTEXT_DEFAULTS[key] });
  });
});

describe('isExampleValue', () => {
  it.each([
    ['https://keycloak.example.com/realms/x', true],
    ['invitations@example.org', true],
    ['https://example.net', true],
    ['https://example.com:8443/x', true],
    ['https://myexample.com', false],
    ['https://example.company.io', false],
    ['ops@acme.test', false],
    [42, false],
  ])('%s → %s', (value, expected) => {
    expect(isExampleValue(value)).toBe(expected);
  });
});
