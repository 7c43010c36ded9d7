import { describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE, invitationIdParam, listQuery, orgIdParam, orgNameParam } from '../../shared/http/params.ts';
import { expectDomainError } from './helpers.ts';

describe('orgNameParam', () => {
  it.each(['acme', 'abc', 'Acme-Labs_2', 'n'.repeat(200), '123'])('returns the valid name %j', (org) => {
    expect(orgNameParam({ org })).toBe(org);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too short', 'ab'],
    ['too long', 'n'.repeat(201)],
    ['with a space', 'acme labs'],
    ['with a dot', 'acme.io'],
    ['with a slash (decoded %2F)', 'acme/labs'],
    ['path traversal', '..'],
    ['unicode', 'ácme'],
    ['a trailing newline', 'acme\n'],
  ])('answers NOT_FOUND for a name that is %s', (_name, org) => {
    expectDomainError(() => orgNameParam({ org }), 'NOT_FOUND', 'Organization not found.');
  });
});

describe('orgIdParam', () => {
  it.each([
    ['12', 12],
    ['0', 0],
    ['007', 7],
    ['999999999999999', 999_999_999_999_999],
  ])('reads %j as %d', (org, expected) => {
    expect(orgIdParam({ org })).toBe(expected);
  });

  it.each([
    ['letters', 'abc'],
    ['a fraction', '1.5'],
    ['negative', '-1'],
    ['explicit plus', '+1'],
    ['empty', ''],
    ['missing', undefined],
    ['16 digits', '1234567890123456'],
    ['beyond a safe integer', '9007199254740993'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
    ['surrounding spaces', ' 12 '],
    ['a trailing newline', '12\n'],
    ['an org name', 'acme'],
  ])('rejects %s with INVALID_INPUT', (_name, org) => {
    expectDomainError(() => orgIdParam({ org }), 'INVALID_INPUT', 'The organization id must be an integer.');
  });
});

describe('invitationIdParam', () => {
  it('returns a lower-case UUID as is', () => {
    expect(invitationIdParam({ invitationId: '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10' })).toBe('0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10');
  });

  it('lower-cases an upper-case UUID', () => {
    expect(invitationIdParam({ invitationId: '0B6C2A3E-4F1D-4A8E-9C77-2F1F6D3B9A10' })).toBe('0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without hyphens', '0b6c2a3e4f1d4a8e9c772f1f6d3b9a10'],
    ['in braces', '{0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10}'],
    ['one digit short', '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a1'],
    ['one digit long', '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a100'],
    ['a non-hex digit', '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a1g'],
    ['a trailing newline', '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10\n'],
    ['surrounding spaces', ' 0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10 '],
    ['a number', '12'],
    ['a urn', 'urn:uuid:0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10'],
  ])('rejects an id that is %s with INVALID_INPUT', (_name, invitationId) => {
    expectDomainError(() => invitationIdParam({ invitationId }), 'INVALID_INPUT', 'The invitation id must be a UUID.');
  });
});

describe('listQuery', () => {
  it('returns nothing for an empty query', () => {
    expect(listQuery({})).toEqual({});
  });

  it.each(['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'])('accepts status=%s', (status) => {
    expect(listQuery({ status })).toEqual({ status });
  });

  it.each(['pending', 'ALL', '', ' PENDING'])('rejects status=%j', (status) => {
    expectDomainError(() => listQuery({ status }), 'INVALID_INPUT', 'status must be one of PENDING, ACCEPTED, REJECTED, EXPIRED.');
  });

  it.each([
    ['1', 1],
    ['20', 20],
    ['100', 100],
    ['007', 7],
  ])('accepts limit=%j', (limit, expected) => {
    expect(MAX_PAGE_SIZE).toBe(100);
    expect(listQuery({ limit })).toEqual({ limit: expected });
  });

  it.each(['0', '101', '-1', '1.5', '1e2', '', ' 5', 'ten', '0x10', '5abc'])('rejects limit=%j', (limit) => {
    expectDomainError(() => listQuery({ limit }), 'INVALID_INPUT', 'limit must be an integer from 1 to 100.');
  });

  it('accepts a cursor together with a limit', () => {
    expect(listQuery({ limit: '10', cursor: 'eyJrIjoxfQ' })).toEqual({ limit: 10, cursor: 'eyJrIjoxfQ' });
  });

  it('accepts a cursor without a limit (a response without limit gives one too)', () => {
    expect(listQuery({ cursor: 'eyJrIjoxfQ' })).toEqual({ cursor: 'eyJrIjoxfQ' });
  });

  it('accepts a 1024-character cursor', () => {
    expect(listQuery({ limit: '5', cursor: 'c'.repeat(1024) }).cursor).toHaveLength(1024);
  });

  it.each([
    ['empty', ''],
    ['over 1024 characters', 'c'.repeat(1025)],
  ])('rejects a cursor that is %s', (_name, cursor) => {
    expectDomainError(() => listQuery({ limit: '5', cursor }), 'INVALID_INPUT', 'cursor is not valid.');
  });

  it('combines all three and ignores unknown parameters', () => {
    expect(listQuery({ status: 'EXPIRED', limit: '50', cursor: 'abc', _: '1700000000', page: '2', size: 'x' })).toEqual({
      status: 'EXPIRED',
      limit: 50,
      cursor: 'abc',
    });
  });

  it.each(['PENDING', 'SENT', 'FAILED', 'BOUNCED', 'COMPLAINED', 'NOT_NEEDED', 'NOT_REQUESTED'])('accepts emailStatus=%s', (emailStatus) => {
    expect(listQuery({ emailStatus })).toEqual({ emailStatus });
  });

  it.each(['sent', 'DELIVERED', 'EXPIRED', 'ACCEPTED', '', ' SENT', 'SENT '])('rejects emailStatus=%j', (emailStatus) => {
    expectDomainError(
      () => listQuery({ emailStatus }),
      'INVALID_INPUT',
      'emailStatus must be one of PENDING, SENT, FAILED, BOUNCED, COMPLAINED, NOT_NEEDED, NOT_REQUESTED.',
    );
  });

  it('keeps status and emailStatus apart', () => {
    expect(listQuery({ status: 'PENDING', emailStatus: 'FAILED' })).toEqual({ status: 'PENDING', emailStatus: 'FAILED' });
    expectDomainError(() => listQuery({ status: 'SENT' }), 'INVALID_INPUT', /^status must be one of/);
    expectDomainError(() => listQuery({ status: 'PENDING', emailStatus: 'REJECTED' }), 'INVALID_INPUT', /^emailStatus must be one of/);
  });

  it('combines all four and ignores unknown parameters', () => {
    expect(
      listQuery({ status: 'PENDING', emailStatus: 'BOUNCED', limit: '20', cursor: 'abc', email_status: 'x', _: '1700000000' }),
    ).toEqual({ status: 'PENDING', emailStatus: 'BOUNCED', limit: 20, cursor: 'abc' });
  });
});
