/**
 * Error responses, following middy's http-error convention: an error carries its status and an
 * `expose` decision; anything unexpected becomes a bare 500 whose details go to the log only.
 * Every error body is `{ status, message }` plus `code` where one is defined.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DomainError, type DomainErrorKind } from '../domain/errors.ts';
import type { RateLimitState } from '../domain/rate-limit.ts';

const STATUS: Record<DomainErrorKind, number> = {
  INVALID_INPUT: 400,
  EMAIL_NOT_VERIFIED: 400,
  NOT_AUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** Error codes clients may branch on (the Jaqpot spec's ErrorCode enum). */
const CODES: Partial<Record<DomainErrorKind, number>> = { EMAIL_NOT_VERIFIED: 1001 };

const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** 204: done, nothing to return (no body, no Content-Type). */
export function noContentResponse(): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 204 };
}

export function errorResponse(statusCode: number, message: string, extra: { code?: number; headers?: Record<string, string> } = {}) {
  return jsonResponse(
    statusCode,
    { status: statusCode, message, ...(extra.code !== undefined && { code: extra.code }) },
    extra.headers,
  );
}

export function rateLimitHeaders(state: RateLimitState | undefined): Record<string, string> {
  if (!state) return {};
  return {
    'X-RateLimit-Limit': String(state.limit),
    'X-RateLimit-Remaining': String(state.remaining),
    'X-RateLimit-Reset': String(state.resetAt),
  };
}

/** Maps a thrown error to a response; `undefined` means "unexpected: log it and answer 500". */
export function responseForError(error: unknown): APIGatewayProxyStructuredResultV2 | undefined {
  if (!(error instanceof DomainError)) return undefined;
  const status = STATUS[error.kind];
  const headers: Record<string, string> = {};
  if (error.kind === 'RATE_LIMITED') {
    Object.assign(headers, rateLimitHeaders(error.details?.rateLimit as RateLimitState));
    headers['Retry-After'] = String(error.details?.retryAfterSeconds);
  }
  if (error.kind === 'UNAVAILABLE') headers['Retry-After'] = String(UNAVAILABLE_RETRY_AFTER_SECONDS);
  return errorResponse(status, error.message, { code: CODES[error.kind], headers });
}

export const internalErrorResponse = () => errorResponse(500, 'Internal server error.');
