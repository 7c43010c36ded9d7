/** Shared assertions for the unit tests (not a test file itself: vitest only runs *.test.ts). */
import { expect } from 'vitest';
import type { Caller } from '../../shared/domain/caller.ts';
import { DomainError, type DomainErrorKind } from '../../shared/domain/errors.ts';

/** Runs `fn` and returns what it threw; fails the test if it did not throw. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the function to throw, but it returned normally');
}

/** Asserts that `fn` throws a DomainError of `kind` (and, if given, with that exact message or matching that pattern). */
export function expectDomainError(fn: () => unknown, kind: DomainErrorKind, message?: string | RegExp): DomainError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(DomainError);
  const domainError = error as DomainError;
  expect(domainError.kind).toBe(kind);
  if (typeof message === 'string') expect(domainError.message).toBe(message);
  else if (message instanceof RegExp) expect(domainError.message).toMatch(message);
  return domainError;
}

export function caller(overrides: Partial<Caller> = {}): Caller {
  return {
    userId: 'user-1',
    email: 'someone@example.com',
    emailVerified: true,
    username: 'someone',
    isRealmAdmin: false,
    ...overrides,
  };
}
