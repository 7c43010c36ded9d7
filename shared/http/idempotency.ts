/**
 * Idempotency-Key support (RFC draft "The Idempotency-Key HTTP Header Field"): a retried request
 * with the same key and the same content gets the first response again and changes nothing; the
 * same key with different content is 422; while the first is still running, 409. Keys are
 * scoped to the caller. Only successful responses are kept: a refused request releases its key,
 * so a corrected retry runs normally.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { Caller } from '../domain/caller.ts';
import { DomainError } from '../domain/errors.ts';
import type { IdempotencyStore } from '../ports.ts';
import { logger } from '../observability.ts';
import type { ApiResult } from './api-handler.ts';
import { validate } from './validation.ts';

const KEY_MESSAGE = 'Idempotency-Key must be 1 to 255 visible ASCII characters.';
/** The Idempotency-Key header: 1 to 255 visible ASCII characters. */
export const IdempotencyKeyHeader = v.pipe(
  v.string(KEY_MESSAGE),
  v.regex(/^[\x21-\x7e]+$/, KEY_MESSAGE),
  v.minLength(1, KEY_MESSAGE),
  v.maxLength(255, KEY_MESSAGE),
);

export interface IdempotentRequest {
  readonly caller: Caller;
  /** The Idempotency-Key header as sent (requests without one do not come here). */
  readonly key: string;
  /** What makes two requests "the same": the parsed, normalized content, not its serialization. */
  readonly content: unknown;
  readonly nowMs: number;
}

export async function idempotent(
  store: IdempotencyStore,
  request: IdempotentRequest,
  run: () => Promise<ApiResult>,
): Promise<ApiResult> {
  validate(IdempotencyKeyHeader, request.key);
  const scope = request.caller.userId;
  const fingerprint = fingerprintOf(request.content);

  const claim = await store.claim(scope, request.key, fingerprint, request.nowMs);
  if (claim.kind === 'mismatch') {
    throw new DomainError('UNPROCESSABLE', 'This Idempotency-Key was already used for a different request.');
  }
  if (claim.kind === 'in-progress') {
    throw new DomainError('CONFLICT', 'A request with this Idempotency-Key is still in progress. Retry shortly.');
  }
  if (claim.kind === 'completed') {
    return { ...claim.response, headers: { ...claim.response.headers, 'Idempotent-Replayed': 'true' } };
  }

  let result: ApiResult;
  try {
    result = await run();
  } catch (error) {
    await store.release(scope, request.key, fingerprint).catch(() => undefined);
    throw error;
  }
  const statusCode = result.statusCode ?? 200;
  if (statusCode >= 300) {
    await store.release(scope, request.key, fingerprint).catch(() => undefined);
    return result;
  }
  try {
    await store.complete(scope, request.key, fingerprint, {
      statusCode,
      headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)])),
      body: result.body ?? '',
    });
  } catch (error) {
    // The work is done and committed: answer it. A retry with this key then gets 409 until the
    // claim's lease ends, and after that runs again (finding the invitations: ALREADY_INVITED).
    logger.warn('could not record the idempotent response', { error: (error as Error).message });
  }
  return result;
}

export function fingerprintOf(content: unknown): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}
