/**
 * The shape every API function shares: middy with Powertools logging (correlation id = API
 * Gateway request id) and metrics, JSON error mapping, request parsing and, where a route offers
 * it, Idempotency-Key handling. A handler module is then only: parse the route's inputs, call a
 * service, map the result.
 */
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { deadlineFor, runWithDeadline } from '../deadline.ts';
import { FUNCTION_SIZES } from '../deployment/function-sizes.ts';
import type { Caller } from '../domain/caller.ts';
import { invalidInput } from '../domain/errors.ts';
import { logger, observability } from '../observability.ts';
import type { Clock, IdempotencyStore } from '../ports.ts';
import { callerFrom, type AuthorizerContext } from './caller.ts';
import { idempotent } from './idempotency.ts';
import { internalErrorResponse, responseForError } from './responses.ts';

export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Partial<AuthorizerContext>>;
export type ApiResult = APIGatewayProxyStructuredResultV2;

export interface ApiRequest {
  readonly caller: Caller;
  readonly path: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body; only read it on routes that take one. */
  jsonBody(): unknown;
}

export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiHandlerOptions {
  /**
   * Honour an Idempotency-Key header (shared/http/idempotency.ts): a retry with the same key and
   * the same content gets the first response again. `fingerprint` says what "the same content"
   * is: the route's parsed, normalized inputs (it runs first, so invalid input is refused as
   * without a key).
   */
  readonly idempotency?: {
    readonly store: IdempotencyStore;
    readonly clock: Clock;
    readonly fingerprint: (request: ApiRequest) => unknown;
    /** Requests for which the key is ignored (a dry run, which writes nothing); default: all honour it. */
    readonly appliesTo?: (request: ApiRequest) => boolean;
  };
}

export function apiHandler(handle: (request: ApiRequest) => Promise<ApiResult>, options: ApiHandlerOptions = {}) {
  const run = options.idempotency ? withIdempotency(handle, options.idempotency) : handle;
  return middy<ApiEvent, ApiResult>()
    .use(observability())
    .use({ onError: mapErrorToResponse })
    .handler(async (event, context) => {
      // The API Gateway request id: the same id the gateway's access log and the client see.
      logger.setCorrelationId(event.requestContext?.requestId);
      const headers = lowerCaseKeys(event.headers);
      let body: { value: unknown } | undefined;
      const request: ApiRequest = {
        // Read when a handler asks: fails closed (401) without an authorizer context, while the
        // not-found function, which needs no caller, also answers the unauthorized OPTIONS route.
        get caller() {
          return callerFrom(event.requestContext?.authorizer?.lambda);
        },
        path: event.pathParameters ?? {},
        query: event.queryStringParameters ?? {},
        headers,
        // Parsed once, however often it is read (the idempotency fingerprint reads it too).
        jsonBody: () => (body ??= { value: parseJsonBody(event, headers) }).value,
      };
      // Every DynamoDB call of this request stops at the deadline and the request answers 503 +
      // Retry-After, a margin before Lambda's timeout (which API Gateway would answer 500).
      return runWithDeadline(deadlineFor(context, FUNCTION_SIZES.api), () => run(request));
    });
}

function withIdempotency(
  handle: (request: ApiRequest) => Promise<ApiResult>,
  { store, clock, fingerprint, appliesTo }: NonNullable<ApiHandlerOptions['idempotency']>,
) {
  return async (request: ApiRequest): Promise<ApiResult> => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || (appliesTo && !appliesTo(request))) return handle(request);
    const { caller } = request; // 401 before anything else, as on every route
    const content = fingerprint(request);
    return idempotent(store, { caller, key, content, nowMs: clock.nowMs() }, () => handle(request));
  };
}

function mapErrorToResponse(request: middy.Request<ApiEvent, ApiResult>) {
  const response = responseForError(request.error);
  if (response) {
    logger.info('request refused', { status: response.statusCode, reason: request.error?.message });
    request.response = response;
    return;
  }
  logger.error('unexpected error', request.error as Error);
  request.response = internalErrorResponse();
}

/** Strict JSON bodies: application/json (any charset), at most 64 KB, well-formed. */
export function parseJsonBody(event: ApiEvent, headers: Readonly<Record<string, string | undefined>>): unknown {
  const contentType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json' && !contentType?.endsWith('+json')) {
    throw invalidInput('The request body must be JSON (Content-Type: application/json).');
  }
  const raw = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_BODY_BYTES) throw invalidInput(`The request body must be at most ${MAX_BODY_BYTES / 1024} KB.`);
  const text = raw.toString();
  if (text.trim() === '') throw invalidInput('The request body is empty; a JSON body is required.');
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput('The request body is not valid JSON.');
  }
}

function lowerCaseKeys(headers: Record<string, string | undefined> | undefined) {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) result[name.toLowerCase()] = value;
  return result;
}
