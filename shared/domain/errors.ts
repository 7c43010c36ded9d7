/**
 * Domain failures. The domain says *what* went wrong; the HTTP layer (shared/http) decides the
 * status code, so rules stay free of transport concerns.
 */
export type DomainErrorKind =
  | 'INVALID_INPUT' // 400
  | 'EMAIL_NOT_VERIFIED' // 400, code 1001
  | 'NOT_AUTHORIZED' // 401 (the Jaqpot spec uses 401 for "not an org admin")
  | 'NOT_FOUND' // 404
  | 'CONFLICT' // 409
  | 'GONE' // 410
  | 'UNPROCESSABLE' // 422
  | 'RATE_LIMITED' // 429
  | 'UNAVAILABLE'; // 503: a dependency is throttled or down; safe to retry

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Extra facts the HTTP layer may turn into headers (e.g. rate-limit state). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidInput = (message: string) => new DomainError('INVALID_INPUT', message);
export const notFound = (message: string) => new DomainError('NOT_FOUND', message);
export const notAuthorized = (message: string) => new DomainError('NOT_AUTHORIZED', message);
export const emailNotVerified = () =>
  new DomainError('EMAIL_NOT_VERIFIED', 'Your email address is not verified. Verify it with your identity provider, then try again.');
