import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULTS,
  loadApiConfig,
  loadAuthorizerConfig,
  loadDeliveryConfig,
  loadTableConfig,
} from '../../shared/config.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadApiConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadApiConfig({ TABLE_NAME: 'invitations', FRONTEND_URL: 'https://app.jaqpot.org' })).toEqual({
      tableName: 'invitations',
      frontendUrl: 'https://app.jaqpot.org',
      dynamodbEndpoint: undefined,
      invitations: { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 },
      rateLimits: {
        create: { limit: 5, windowSeconds: 600 },
        resend: { limit: 10, windowSeconds: 600 },
        createOrganization: { limit: 10, windowSeconds: 600 },
        updateOrganization: { limit: 5, windowSeconds: 60 },
      },
      eventRetentionSeconds: 31_536_000,
    });
    expect(DEFAULTS).toMatchObject({
      EVENT_RETENTION_SECONDS: '31536000',
      INVITATION_EXPIRY_SECONDS: '604800',
      INVITATION_RETENTION_SECONDS: '2592000',
      ANSWERED_INVITATION_RETENTION_SECONDS: '31536000',
      RATE_LIMIT_CREATE: '5/600',
      RATE_LIMIT_RESEND: '10/600',
      RATE_LIMIT_CREATE_ORGANIZATION: '10/600',
      RATE_LIMIT_UPDATE_ORGANIZATION: '5/60',
    });
  });

  it('reads overrides', () => {
    expect(
      loadApiConfig({
        TABLE_NAME: ' my-table ',
        DYNAMODB_ENDPOINT: 'http://localhost:8000',
        INVITATION_EXPIRY_SECONDS: '3600',
        INVITATION_RETENTION_SECONDS: ' 86400 ',
        ANSWERED_INVITATION_RETENTION_SECONDS: '604800',
        RATE_LIMIT_CREATE: '2/60',
        RATE_LIMIT_RESEND: ' 3/120 ',
        RATE_LIMIT_CREATE_ORGANIZATION: '4/30',
        RATE_LIMIT_UPDATE_ORGANIZATION: '6/90',
        FRONTEND_URL: ' http://localhost:3000/app ',
        EVENT_RETENTION_SECONDS: ' 86400 ',
      }),
    ).toEqual({
      tableName: 'my-table',
      frontendUrl: 'http://localhost:3000/app',
      dynamodbEndpoint: 'http://localhost:8000',
      invitations: { expirySeconds: 3600, retentionSeconds: 86_400, answeredRetentionSeconds: 604_800, reminderBeforeSeconds: 172_800 },
      rateLimits: {
        create: { limit: 2, windowSeconds: 60 },
        resend: { limit: 3, windowSeconds: 120 },
        createOrganization: { limit: 4, windowSeconds: 30 },
        updateOrganization: { limit: 6, windowSeconds: 90 },
      },
      eventRetentionSeconds: 86_400,
    });
  });

  it('treats empty or blank optional values as unset', () => {
    const config = loadApiConfig({
      TABLE_NAME: 't',
      FRONTEND_URL: 'https://app.jaqpot.org',
      DYNAMODB_ENDPOINT: '  ',
      INVITATION_EXPIRY_SECONDS: '',
      INVITATION_RETENTION_SECONDS: ' ',
      RATE_LIMIT_CREATE: '',
    });
    expect(config.dynamodbEndpoint).toBeUndefined();
    expect(config.invitations).toEqual({ expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 });
    expect(config.rateLimits.create).toEqual({ limit: 5, windowSeconds: 600 });
  });

  it.each(['0', '-1', '1.5', 'a year'])('rejects ANSWERED_INVITATION_RETENTION_SECONDS=%j', (value) => {
    const error = configError(() => loadApiConfig({ TABLE_NAME: 't', ANSWERED_INVITATION_RETENTION_SECONDS: value }));
    expect(error.message).toContain('ANSWERED_INVITATION_RETENTION_SECONDS must be a positive integer');
  });

  it.each([
    ['missing', {}],
    ['empty', { TABLE_NAME: '' }],
    ['blank', { TABLE_NAME: '   ' }],
  ])('fails when TABLE_NAME is %s, naming it', (_name, env) => {
    const error = configError(() => loadApiConfig(env));
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('TABLE_NAME is required');
  });

  it.each(['0', '-1', '1.5', 'abc', '7d', '9007199254740993'])('rejects INVITATION_EXPIRY_SECONDS=%j', (value) => {
    const error = configError(() => loadApiConfig({ TABLE_NAME: 't', INVITATION_EXPIRY_SECONDS: value }));
    expect(error.message).toContain('INVITATION_EXPIRY_SECONDS must be a positive integer');
  });

  it.each(['0/10', '5', 'a/b', '5/0'])('rejects RATE_LIMIT_RESEND=%j, quoting the value', (value) => {
    const error = configError(() => loadApiConfig({ TABLE_NAME: 't', RATE_LIMIT_RESEND: value }));
    expect(error.message).toContain('RATE_LIMIT_RESEND');
    expect(error.message).toContain(`"${value}"`);
  });

  it.each(['not a url', 'http//localhost:8000', '://x', 'localhost:8000', 'ftp://example.com'])('rejects DYNAMODB_ENDPOINT=%j', (value) => {
    const error = configError(() => loadApiConfig({ TABLE_NAME: 't', DYNAMODB_ENDPOINT: value }));
    expect(error.message).toContain('DYNAMODB_ENDPOINT must be an http(s) URL');
  });

  it('lists every problem at once, one per line', () => {
    const error = configError(() =>
      loadApiConfig({
        DYNAMODB_ENDPOINT: 'not a url',
        INVITATION_EXPIRY_SECONDS: 'soon',
        INVITATION_RETENTION_SECONDS: '0',
        RATE_LIMIT_CREATE: '0/10',
        RATE_LIMIT_RESEND: 'lots',
        RATE_LIMIT_CREATE_ORGANIZATION: '10',
        RATE_LIMIT_UPDATE_ORGANIZATION: '0/60',
      }),
    );
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1)).toHaveLength(9);
    for (const name of [
      'TABLE_NAME',
      'FRONTEND_URL',
      'DYNAMODB_ENDPOINT',
      'INVITATION_EXPIRY_SECONDS',
      'INVITATION_RETENTION_SECONDS',
      'RATE_LIMIT_CREATE',
      'RATE_LIMIT_RESEND',
      'RATE_LIMIT_CREATE_ORGANIZATION',
      'RATE_LIMIT_UPDATE_ORGANIZATION',
    ]) {
      expect(lines.filter((line) => line.startsWith(`- ${name}:`) || line.startsWith(`- ${name} `))).toHaveLength(1);
    }
  });
});

describe('loadAuthorizerConfig', () => {
  const BASE = {
    JWT_ISSUER: 'https://id.example.org/realms/jaqpot',
    JWT_JWKS_URI: 'https://id.example.org/realms/jaqpot/protocol/openid-connect/certs',
    JWT_AUDIENCE: 'jaqpot-api',
  };

  it('reads the required values and defaults the clock tolerance to 30 s and the cache TTL to 10 s', () => {
    expect(loadAuthorizerConfig(BASE)).toEqual({
      issuer: BASE.JWT_ISSUER,
      jwksUri: BASE.JWT_JWKS_URI,
      audience: ['jaqpot-api'],
      clockToleranceSeconds: 30,
      cacheTtlSeconds: 10,
      verifierGraceSeconds: 20,
    });
  });

  it('gives the verifier the tolerance minus the cache TTL, so a cached verdict ends by exp + tolerance', () => {
    const grace = (tolerance: string, ttl: string) =>
      loadAuthorizerConfig({ ...BASE, JWT_CLOCK_TOLERANCE_SECONDS: tolerance, AUTHORIZER_CACHE_TTL_SECONDS: ttl }).verifierGraceSeconds;
    expect(grace('30', '0')).toBe(30);
    expect(grace('30', '10')).toBe(20);
    expect(grace('30', '30')).toBe(0);
    expect(grace('0', '0')).toBe(0);
  });

  it('refuses a cache TTL longer than the clock tolerance, with the other problems', () => {
    const error = configError(() =>
      loadAuthorizerConfig({ JWT_CLOCK_TOLERANCE_SECONDS: '5', AUTHORIZER_CACHE_TTL_SECONDS: '6', JWT_ISSUER: BASE.JWT_ISSUER }),
    );
    expect(error.message).toContain('AUTHORIZER_CACHE_TTL_SECONDS (6) must be at most JWT_CLOCK_TOLERANCE_SECONDS (5)');
    expect(error.message).toContain('JWT_AUDIENCE is required');
    expect(configError(() => loadAuthorizerConfig({ ...BASE, AUTHORIZER_CACHE_TTL_SECONDS: 'ten' })).message).toContain(
      'AUTHORIZER_CACHE_TTL_SECONDS must be a non-negative integer',
    );
  });

  it.each(['JWT_ISSUER', 'JWT_JWKS_URI', 'JWT_AUDIENCE'] as const)('requires %s', (name) => {
    const { [name]: _omitted, ...env } = BASE;
    const error = configError(() => loadAuthorizerConfig(env));
    expect(error.message).toContain(`${name} is required`);
    expect(() => loadAuthorizerConfig({ ...BASE, [name]: '  ' })).toThrow(`${name} is required`);
  });

  it('lists all three missing values together', () => {
    const error = configError(() => loadAuthorizerConfig({}));
    for (const name of ['JWT_ISSUER', 'JWT_JWKS_URI', 'JWT_AUDIENCE']) expect(error.message).toContain(`${name} is required`);
  });

  it.each(['any', ' any ', 'any\n'])('turns off the audience check for %j', (value) => {
    expect(loadAuthorizerConfig({ ...BASE, JWT_AUDIENCE: value }).audience).toBeNull();
  });

  it('does not treat "ANY" or a list containing "any" as the wildcard', () => {
    expect(loadAuthorizerConfig({ ...BASE, JWT_AUDIENCE: 'ANY' }).audience).toEqual(['ANY']);
    expect(loadAuthorizerConfig({ ...BASE, JWT_AUDIENCE: 'any,web' }).audience).toEqual(['any', 'web']);
  });

  it('splits a comma list, trimming entries and dropping empty ones', () => {
    expect(loadAuthorizerConfig({ ...BASE, JWT_AUDIENCE: ' jaqpot-api , account,,web-ui ,' }).audience).toEqual([
      'jaqpot-api',
      'account',
      'web-ui',
    ]);
  });

  it('refuses a list with no audience in it', () => {
    const error = configError(() => loadAuthorizerConfig({ ...BASE, JWT_AUDIENCE: ' , ,' }));
    expect(error.message).toContain('JWT_AUDIENCE must list at least one audience');
  });

  it.each([
    ['0', 0],
    ['120', 120],
    [' 5 ', 5],
    ['', 30],
  ])('reads JWT_CLOCK_TOLERANCE_SECONDS=%j as %d', (value, expected) => {
    // No cache: the TTL may not exceed the tolerance (tested below).
    const env = { ...BASE, JWT_CLOCK_TOLERANCE_SECONDS: value, AUTHORIZER_CACHE_TTL_SECONDS: '0' };
    expect(loadAuthorizerConfig(env).clockToleranceSeconds).toBe(expected);
  });

  it.each(['-1', '1.5', 'thirty'])('rejects JWT_CLOCK_TOLERANCE_SECONDS=%j', (value) => {
    const error = configError(() => loadAuthorizerConfig({ ...BASE, JWT_CLOCK_TOLERANCE_SECONDS: value }));
    expect(error.message).toContain('JWT_CLOCK_TOLERANCE_SECONDS must be a non-negative integer');
  });

  it('trims the issuer and JWKS URI', () => {
    const config = loadAuthorizerConfig({ ...BASE, JWT_ISSUER: ` ${BASE.JWT_ISSUER} `, JWT_JWKS_URI: `${BASE.JWT_JWKS_URI}\n` });
    expect(config.issuer).toBe(BASE.JWT_ISSUER);
    expect(config.jwksUri).toBe(BASE.JWT_JWKS_URI);
  });
});

describe('loadTableConfig', () => {
  it('reads just the table name and the optional endpoint', () => {
    expect(loadTableConfig({ TABLE_NAME: ' invitations ' })).toEqual({ tableName: 'invitations', dynamodbEndpoint: undefined, eventRetentionSeconds: 31_536_000 });
    expect(loadTableConfig({ TABLE_NAME: 't', DYNAMODB_ENDPOINT: 'http://localhost:8000', SENDER_EMAIL: 'not checked', EVENT_RETENTION_SECONDS: '60' })).toEqual({
      tableName: 't',
      dynamodbEndpoint: 'http://localhost:8000',
      eventRetentionSeconds: 60,
    });
    expect(() => loadTableConfig({ TABLE_NAME: 't', EVENT_RETENTION_SECONDS: 'a year' })).toThrow(/EVENT_RETENTION_SECONDS must be a positive integer/);
  });

  it('needs nothing but TABLE_NAME (no delivery or API settings)', () => {
    expect(() => loadTableConfig({ TABLE_NAME: 't', INVITATION_EXPIRY_SECONDS: 'soon', RATE_LIMIT_CREATE: 'lots' })).not.toThrow();
  });

  it.each([
    ['missing', {}],
    ['blank', { TABLE_NAME: '  ' }],
  ])('fails when TABLE_NAME is %s', (_name, env) => {
    expect(configError(() => loadTableConfig(env)).message).toContain('TABLE_NAME is required');
  });

  it('lists both problems together', () => {
    const lines = configError(() => loadTableConfig({ DYNAMODB_ENDPOINT: 'localhost:8000' })).message.split('\n');
    expect(lines).toEqual(['Invalid configuration:', '- TABLE_NAME is required', '- DYNAMODB_ENDPOINT must be an http(s) URL']);
  });
});

describe('loadDeliveryConfig', () => {
  const BASE = {
    TABLE_NAME: 'invitations',
    SENDER_EMAIL: 'noreply@jaqpot.org',
    FRONTEND_URL: 'https://app.jaqpot.org',
  };

  it('reads the required values and applies the documented defaults', () => {
    expect(loadDeliveryConfig(BASE)).toEqual({
      tableName: 'invitations',
      dynamodbEndpoint: undefined,
      sesEndpoint: undefined,
      senderEmail: 'noreply@jaqpot.org',
      replyTo: undefined,
      configurationSet: undefined,
      frontendUrl: 'https://app.jaqpot.org',
      brandName: 'Jaqpot',
      sendAttempts: 3,
      sweepAgeSeconds: 900,
      eventRetentionSeconds: 31_536_000,
    });
    expect(DEFAULTS).toMatchObject({ BRAND_NAME: 'Jaqpot', EMAIL_SEND_ATTEMPTS: '3', EMAIL_SWEEP_AGE_SECONDS: '900' });
  });

  it('reads overrides, trimmed', () => {
    expect(
      loadDeliveryConfig({
        TABLE_NAME: ' t ',
        DYNAMODB_ENDPOINT: 'http://localhost:8000',
        SES_ENDPOINT: ' http://localhost:8005 ',
        SENDER_EMAIL: ' Invitations@Example.org ',
        REPLY_TO: 'support@example.org',
        SES_CONFIGURATION_SET: ' invitations-events ',
        FRONTEND_URL: ' http://localhost:3000/app ',
        BRAND_NAME: ' Acme Models ',
        EMAIL_SEND_ATTEMPTS: '5',
        EMAIL_SWEEP_AGE_SECONDS: ' 60 ',
      }),
    ).toEqual({
      tableName: 't',
      dynamodbEndpoint: 'http://localhost:8000',
      sesEndpoint: 'http://localhost:8005',
      senderEmail: 'Invitations@Example.org',
      replyTo: 'support@example.org',
      configurationSet: 'invitations-events',
      frontendUrl: 'http://localhost:3000/app',
      brandName: 'Acme Models',
      sendAttempts: 5,
      sweepAgeSeconds: 60,
      eventRetentionSeconds: 31_536_000,
    });
  });

  it('treats empty or blank optional values as unset', () => {
    const config = loadDeliveryConfig({
      ...BASE,
      SES_ENDPOINT: ' ',
      REPLY_TO: '',
      SES_CONFIGURATION_SET: '  ',
      BRAND_NAME: ' ',
      EMAIL_SEND_ATTEMPTS: '',
      EMAIL_SWEEP_AGE_SECONDS: ' ',
    });
    expect(config).toMatchObject({ sesEndpoint: undefined, replyTo: undefined, configurationSet: undefined });
    expect(config).toMatchObject({ brandName: 'Jaqpot', sendAttempts: 3, sweepAgeSeconds: 900 });
  });

  it.each(['TABLE_NAME', 'SENDER_EMAIL', 'FRONTEND_URL'] as const)('requires %s', (name) => {
    const { [name]: _omitted, ...env } = BASE;
    expect(configError(() => loadDeliveryConfig(env)).message).toContain(`${name} is required`);
    expect(configError(() => loadDeliveryConfig({ ...BASE, [name]: '   ' })).message).toContain(`${name} is required`);
  });

  it.each(['noreply', 'Jaqpot <noreply@jaqpot.org>', 'noreply@localhost', 'no reply@jaqpot.org', 'noreply@jaqpot.org\r\nBcc: x@evil.com'])(
    'rejects SENDER_EMAIL=%j',
    (value) => {
      expect(configError(() => loadDeliveryConfig({ ...BASE, SENDER_EMAIL: value })).message).toContain(
        'SENDER_EMAIL must be an email address',
      );
    },
  );

  it.each(['support', 'support@', 'Support <support@jaqpot.org>'])('validates an optional REPLY_TO too: rejects %j', (value) => {
    expect(configError(() => loadDeliveryConfig({ ...BASE, REPLY_TO: value })).message).toContain('REPLY_TO must be an email address');
  });

  it.each(['app.jaqpot.org', 'ftp://app.jaqpot.org', 'https//app.jaqpot.org', 'not a url', 'javascript:alert(1)'])(
    'rejects FRONTEND_URL=%j',
    (value) => {
      const error = configError(() => loadDeliveryConfig({ ...BASE, FRONTEND_URL: value }));
      expect(error.message).toContain('FRONTEND_URL must be an http(s) URL');
      expect(error.message).not.toContain('FRONTEND_URL is required');
    },
  );

  it.each(['localhost:8005', 'smtp://localhost'])('rejects SES_ENDPOINT=%j', (value) => {
    expect(configError(() => loadDeliveryConfig({ ...BASE, SES_ENDPOINT: value })).message).toContain(
      'SES_ENDPOINT must be an http(s) URL',
    );
  });

  it.each(['0', '-1', '1.5', 'three'])('rejects EMAIL_SEND_ATTEMPTS=%j', (value) => {
    expect(configError(() => loadDeliveryConfig({ ...BASE, EMAIL_SEND_ATTEMPTS: value })).message).toContain(
      'EMAIL_SEND_ATTEMPTS must be a positive integer',
    );
  });

  it.each(['0', '-60', '15m'])('rejects EMAIL_SWEEP_AGE_SECONDS=%j', (value) => {
    expect(configError(() => loadDeliveryConfig({ ...BASE, EMAIL_SWEEP_AGE_SECONDS: value })).message).toContain(
      'EMAIL_SWEEP_AGE_SECONDS must be a positive integer',
    );
  });

  it('lists every problem at once, one per line', () => {
    const error = configError(() =>
      loadDeliveryConfig({
        DYNAMODB_ENDPOINT: 'nope',
        SES_ENDPOINT: 'nope',
        REPLY_TO: 'nope',
        EMAIL_SEND_ATTEMPTS: '0',
        EMAIL_SWEEP_AGE_SECONDS: 'soon',
      }),
    );
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    const names = [
      'TABLE_NAME',
      'DYNAMODB_ENDPOINT',
      'SES_ENDPOINT',
      'SENDER_EMAIL',
      'REPLY_TO',
      'FRONTEND_URL',
      'EMAIL_SEND_ATTEMPTS',
      'EMAIL_SWEEP_AGE_SECONDS',
    ];
    expect(lines.slice(1)).toHaveLength(names.length);
    for (const name of names) expect(lines.filter((line) => line.startsWith(`- ${name} `))).toHaveLength(1);
  });
});
