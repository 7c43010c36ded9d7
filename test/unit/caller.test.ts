import { describe, expect, it } from 'vitest';
import { callerFrom } from '../../shared/http/caller.ts';
import { expectDomainError } from './helpers.ts';

const CONTEXT = {
  sub: 'user-1',
  email: 'bob@example.com',
  emailVerified: true,
  username: 'bob',
  roles: '["offline_access","uma_authorization"]',
};

describe('callerFrom', () => {
  it('builds the caller from a full context', () => {
    expect(callerFrom(CONTEXT)).toEqual({
      userId: 'user-1',
      email: 'bob@example.com',
      emailVerified: true,
      username: 'bob',
      isRealmAdmin: false,
    });
  });

  it.each([
    ['no context', undefined],
    ['an empty context', {}],
    ['an empty sub', { ...CONTEXT, sub: '' }],
    ['a context without sub', { email: 'bob@example.com', emailVerified: true, roles: '["admin"]' }],
  ])('fails closed with NOT_AUTHORIZED for %s', (_name, context) => {
    expectDomainError(() => callerFrom(context), 'NOT_AUTHORIZED');
  });

  it.each([
    ['["admin"]', true],
    ['["user","admin"]', true],
    ['[1,null,"admin"]', true],
    ['["x,admin"]', false],
    ['x,admin', false],
    ['admin', false],
    ['"admin"', false],
    ['["ADMIN"]', false],
    ['["admin "]', false],
    ['["realm-admin"]', false],
    ['{"admin":true}', false],
    ['[["admin"]]', false],
    ['[]', false],
    ['', false],
    ['not json', false],
    ['null', false],
  ])('roles %j → isRealmAdmin %s', (roles, expected) => {
    expect(callerFrom({ ...CONTEXT, roles }).isRealmAdmin).toBe(expected);
  });

  it('is not a realm admin when roles are missing', () => {
    const { roles: _omitted, ...context } = CONTEXT;
    expect(callerFrom(context).isRealmAdmin).toBe(false);
  });

  it.each([
    [true, true],
    ['true', true],
    [false, false],
    ['false', false],
    ['TRUE', false],
    ['1', false],
    [1, false],
    ['', false],
    [undefined, false],
  ] as Array<[unknown, boolean]>)('emailVerified %j → %s', (emailVerified, expected) => {
    // API Gateway may hand booleans over as strings, hence the loose input type.
    expect(callerFrom({ ...CONTEXT, emailVerified: emailVerified as boolean }).emailVerified).toBe(expected);
  });

  it('maps empty email and username to undefined', () => {
    const caller = callerFrom({ ...CONTEXT, email: '', username: '' });
    expect(caller.email).toBeUndefined();
    expect(caller.username).toBeUndefined();
  });

  it('keeps the email exactly as the token had it (no trimming or lower-casing)', () => {
    expect(callerFrom({ ...CONTEXT, email: ' Bob@Example.COM ' }).email).toBe(' Bob@Example.COM ');
  });
});
