import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENV = {
  JWT_ISSUER: 'https://id.example.org/realms/jaqpot',
  JWT_JWKS_URI: 'https://id.example.org/realms/jaqpot/protocol/openid-connect/certs',
  JWT_AUDIENCE: 'jaqpot-api',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
} as const;

let contextFrom: (payload: JwtPayload) => import('../../shared/http/caller.ts').AuthorizerContext;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  // The authorizer reads its configuration at import time.
  for (const [name, value] of Object.entries(ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  ({ contextFrom } = await import('../../functions/authorizer.ts'));
});

afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const payload = (claims: Record<string, unknown>) => ({ sub: 'user-1', exp: 2_000_000_000, ...claims }) as JwtPayload;

describe('contextFrom', () => {
  it('flattens a typical Keycloak token', () => {
    expect(
      contextFrom(
        payload({
          email: 'Bob@Example.com',
          email_verified: true,
          preferred_username: 'bob',
          realm_access: { roles: ['offline_access', 'admin'] },
          resource_access: { account: { roles: ['manage-account'] } },
        }),
      ),
    ).toStrictEqual({
      sub: 'user-1',
      email: 'Bob@Example.com',
      emailVerified: true,
      username: 'bob',
      roles: '["offline_access","admin"]',
    });
  });

  it('uses empty strings and no roles when the optional claims are missing', () => {
    expect(contextFrom(payload({}))).toStrictEqual({
      sub: 'user-1',
      email: '',
      emailVerified: false,
      username: '',
      roles: '[]',
    });
  });

  it.each([
    [true, true],
    ['true', false],
    [1, false],
    ['1', false],
    [false, false],
    [null, false],
    [undefined, false],
  ])('email_verified %j → emailVerified %s (only boolean true counts)', (emailVerified, expected) => {
    expect(contextFrom(payload({ email: 'bob@example.com', email_verified: emailVerified })).emailVerified).toBe(expected);
  });

  it.each([
    ['a number', 42],
    ['an array', ['bob@example.com']],
    ['null', null],
    ['an object', { value: 'bob@example.com' }],
  ])('maps a non-string email (%s) to ""', (_name, email) => {
    expect(contextFrom(payload({ email })).email).toBe('');
  });

  it('maps a non-string preferred_username to ""', () => {
    expect(contextFrom(payload({ preferred_username: 7 })).username).toBe('');
  });

  it('keeps the email exactly as the token has it', () => {
    expect(contextFrom(payload({ email: ' Bob@Example.COM ' })).email).toBe(' Bob@Example.COM ');
  });

  it('encodes roles as a JSON array so separators inside names stay harmless', () => {
    const context = contextFrom(payload({ realm_access: { roles: ['x,admin', 'a"b', 'line\nbreak'] } }));
    expect(JSON.parse(context.roles)).toEqual(['x,admin', 'a"b', 'line\nbreak']);
    expect(JSON.parse(context.roles)).not.toContain('admin');
  });

  it('drops non-string roles', () => {
    expect(JSON.parse(contextFrom(payload({ realm_access: { roles: ['admin', 1, null, { name: 'x' }, ['y']] } })).roles)).toEqual([
      'admin',
    ]);
  });

  it.each([
    ['realm_access missing', {}],
    ['realm_access null', { realm_access: null }],
    ['roles missing', { realm_access: {} }],
    ['roles a string', { realm_access: { roles: 'admin' } }],
    ['roles an object', { realm_access: { roles: { 0: 'admin' } } }],
    ['roles only at the top level', { roles: ['admin'] }],
    ['admin only as a client role', { resource_access: { app: { roles: ['admin'] } } }],
  ])('yields no roles when %s', (_name, claims) => {
    expect(contextFrom(payload(claims)).roles).toBe('[]');
  });

  it('produces only scalar values (HTTP API simple-response contexts allow nothing else)', () => {
    const context = contextFrom(payload({ email: 'a@b.co', email_verified: true, realm_access: { roles: ['admin'] } }));
    for (const value of Object.values(context)) expect(['string', 'boolean', 'number']).toContain(typeof value);
  });

  it('round-trips through callerFrom', async () => {
    const { callerFrom } = await import('../../shared/http/caller.ts');
    const context = contextFrom(payload({ email: 'bob@example.com', email_verified: true, preferred_username: 'bob', realm_access: { roles: ['admin'] } }));
    expect(callerFrom(context)).toEqual({
      userId: 'user-1',
      email: 'bob@example.com',
      emailVerified: true,
      username: 'bob',
      isRealmAdmin: true,
    });
    // What API Gateway actually forwards: scalar values may arrive stringified.
    const stringified = Object.fromEntries(Object.entries(context).map(([k, v]) => [k, String(v)]));
    expect(callerFrom(stringified as never)).toMatchObject({ emailVerified: true, isRealmAdmin: true });
  });
});
