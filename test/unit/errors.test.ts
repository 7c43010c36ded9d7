import { describe, expect, it } from 'vitest';
import {
  DomainError,
  emailNotVerified,
  invalidInput,
  notAuthorized,
  notFound,
  type DomainErrorKind,
} from '../../shared/domain/errors.ts';
import { rateLimited } from '../../shared/domain/rate-limit.ts';
import { internalErrorResponse, rateLimitHeaders, responseForError } from '../../shared/http/responses.ts';

const parse = (body: string | undefined) => JSON.parse(body ?? 'null') as Record<string, unknown>;

describe('responseForError', () => {
  it.each([
    ['INVALID_INPUT', 400],
    ['NOT_AUTHORIZED', 401],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['GONE', 410],
  ] as Array<[DomainErrorKind, number]>)('maps %s to %d with a plain JSON body', (kind, status) => {
    const response = responseForError(new DomainError(kind, `a ${kind} message`));
    expect(response).toBeDefined();
    expect(response!.statusCode).toBe(status);
    expect(response!.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(parse(response!.body)).toStrictEqual({ status, message: `a ${kind} message` });
  });

  it('maps EMAIL_NOT_VERIFIED to 400 with code 1001', () => {
    const error = emailNotVerified();
    const response = responseForError(error)!;
    expect(response.statusCode).toBe(400);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(parse(response.body)).toStrictEqual({ status: 400, message: error.message, code: 1001 });
  });

  it('adds no code to other 400s', () => {
    expect(parse(responseForError(invalidInput('bad'))!.body)).not.toHaveProperty('code');
  });

  it('maps the error helpers to their statuses', () => {
    expect(responseForError(invalidInput('x'))!.statusCode).toBe(400);
    expect(responseForError(notAuthorized('x'))!.statusCode).toBe(401);
    expect(responseForError(notFound('x'))!.statusCode).toBe(404);
  });

  it('maps RATE_LIMITED to 429 with rate-limit headers and Retry-After', () => {
    const state = { limit: 5, remaining: 0, resetAt: 1_700_001_000 };
    const error = rateLimited(state, 1_700_000_880_000);
    const response = responseForError(error)!;
    expect(response.statusCode).toBe(429);
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '1700001000',
      'Retry-After': '120',
    });
    expect(parse(response.body)).toStrictEqual({ status: 429, message: error.message });
  });

  it('maps UNAVAILABLE to 503 with Retry-After', () => {
    const response = responseForError(new DomainError('UNAVAILABLE', 'The service is busy.'))!;
    expect(response.statusCode).toBe(503);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json', 'Retry-After': '1' });
    expect(parse(response.body)).toStrictEqual({ status: 503, message: 'The service is busy.' });
  });

  it('keeps the message verbatim, JSON-escaped', () => {
    const message = 'quote " backslash \\ newline \n unicode é';
    expect(parse(responseForError(invalidInput(message))!.body).message).toBe(message);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'NOT_FOUND'],
    ['null', null],
    ['undefined', undefined],
    ['a look-alike object', { kind: 'NOT_FOUND', message: 'Invitation not found.', name: 'DomainError' }],
    ['an Error with a kind', Object.assign(new Error('x'), { kind: 'NOT_FOUND' })],
  ])('returns undefined for %s (unexpected: 500)', (_name, error) => {
    expect(responseForError(error)).toBeUndefined();
  });
});

describe('internalErrorResponse', () => {
  it('is a bare 500 JSON body', () => {
    const response = internalErrorResponse();
    expect(response.statusCode).toBe(500);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(parse(response.body)).toStrictEqual({ status: 500, message: 'Internal server error.' });
  });
});

describe('rateLimitHeaders', () => {
  it('is empty without a state', () => {
    expect(rateLimitHeaders(undefined)).toEqual({});
  });

  it('renders the state as strings', () => {
    expect(rateLimitHeaders({ limit: 10, remaining: 3, resetAt: 1_700_000_400 })).toEqual({
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '3',
      'X-RateLimit-Reset': '1700000400',
    });
  });
});
