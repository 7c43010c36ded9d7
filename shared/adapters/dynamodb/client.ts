import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../../domain/errors.ts';
import { DeadlineExceeded, deadlineSignal, msLeft } from '../../deadline.ts';

/**
 * Per-attempt limits of every DynamoDB call (see the README's "Time budgets"). One attempt ends
 * after at most `requestTimeoutMs` (the timer covers connecting too); a hung attempt is retried,
 * so two full attempts plus the SDK's backoff (50/100 ms for errors, 1/2 s for throttling) fit in
 * an API function's budget, and the invocation's deadline (shared/deadline.ts) ends the rest.
 */
export const DYNAMODB_CALL_LIMITS = { maxAttempts: 3, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 } as const;

/**
 * One client per container, created at cold start. `endpoint` is only set for DynamoDB Local.
 * Every `send` honours the current invocation's deadline: it is aborted when the deadline passes
 * (in flight or in the SDK's backoff) and fails with DeadlineExceeded, which `call` makes a 503.
 */
export function createDocumentClient(options: { endpoint?: string } = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(options.endpoint && { endpoint: options.endpoint }),
    maxAttempts: DYNAMODB_CALL_LIMITS.maxAttempts,
    requestHandler: {
      connectionTimeout: DYNAMODB_CALL_LIMITS.connectionTimeoutMs,
      requestTimeout: DYNAMODB_CALL_LIMITS.requestTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting:
      // a DynamoDB that accepts the connection and never answers would hold the call forever.
      throwOnRequestTimeout: true,
    },
  });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Looked up per call, not bound once: instrumentation that patches the SDK's `send` later
  // (bench/dynamodb-meter.ts) still sees every call.
  const send = (command: unknown, sendOptions?: object) =>
    (DynamoDBDocumentClient.prototype.send as (command: unknown, options?: object) => Promise<unknown>).call(documentClient, command, sendOptions);
  documentClient.send = ((command: unknown, sendOptions?: object) => sendWithinDeadline(send, command, sendOptions)) as typeof documentClient.send;
  return documentClient;
}

async function sendWithinDeadline(
  send: (command: unknown, options?: object) => Promise<unknown>,
  command: unknown,
  options: object | undefined,
): Promise<unknown> {
  const signal = deadlineSignal();
  if (!signal) return send(command, options);
  if (signal.aborted) throw new DeadlineExceeded();
  let onAbort = () => {};
  // The SDK honours the signal too (it aborts the request and its retry backoff); racing it here
  // as well makes the deadline hold whatever step the SDK is in.
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DeadlineExceeded());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([send(command, { ...options, abortSignal: signal }), aborted]);
  } catch (error) {
    throw signal.aborted ? new DeadlineExceeded() : error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** AWS error names meaning "busy or briefly unavailable": worth a 503 + Retry-After, never a 4xx. */
const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
  'TransactionInProgressException',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // The invocation's time budget ran out (shared/deadline.ts): answer 503 before Lambda's timeout.
  'DeadlineExceeded',
]);

export function serviceBusy() {
  return new DomainError('UNAVAILABLE', 'The service is busy. Please retry shortly.');
}

/**
 * Runs a DynamoDB call, turning throttling and outages (after the SDK's own retries) into a
 * domain UNAVAILABLE error. Anything else is a bug and propagates as is (500, logged).
 */
export async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const name = (error as { name?: string; code?: string }).name ?? '';
    const code = (error as { code?: string }).code ?? '';
    // `$retryable`: the SDK's own verdict (throttling and transient service errors).
    const retryable = Boolean((error as { $retryable?: unknown }).$retryable);
    if (retryable || TRANSIENT_ERRORS.has(name) || TRANSIENT_ERRORS.has(code)) throw serviceBusy();
    throw error;
  }
}

/** A conditional UpdateItem: false when its condition does not hold (nothing was written). */
export async function updateIfCondition(client: DynamoDBDocumentClient, input: UpdateCommandInput): Promise<boolean> {
  try {
    await call(() => client.send(new UpdateCommand(input)));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

export interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, unknown>;
}

export type TransactionResult = { ok: true } | { ok: false; reasons: CancellationReason[] };

const MAX_TRANSACTION_ATTEMPTS = 4;
const RETRYABLE_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * TransactWriteItems with precise cancellation handling:
 * - a failed condition comes back as `{ ok: false, reasons }` for the caller to explain (a 4xx);
 * - conflicts with concurrent transactions and throttling are retried with jittered backoff,
 *   then reported as UNAVAILABLE (503), never as a client error.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  items: NonNullable<TransactWriteCommandInput['TransactItems']>,
): Promise<TransactionResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The token makes the SDK's own network retries of this attempt idempotent.
      await call(() => client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() })));
      return { ok: true };
    } catch (error) {
      if ((error as Error).name !== 'TransactionCanceledException') throw error;
      // The document client does not convert items inside errors: unmarshall them here.
      const raw = (error as { CancellationReasons?: Array<{ Code?: string; Item?: Record<string, any> }> }).CancellationReasons;
      const reasons: CancellationReason[] = (raw ?? []).map((reason) => ({
        Code: reason.Code ?? 'None',
        Item: reason.Item ? unmarshall(reason.Item) : undefined,
      }));
      if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return { ok: false, reasons };
      const retryable = reasons.length > 0 && reasons.every((r) => r.Code === 'None' || RETRYABLE_REASONS.has(r.Code!));
      if (!retryable) throw error;
      const backoffMs = Math.random() * 25 * 2 ** attempt;
      // No attempt left, or none that could finish before the deadline: answer now.
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || backoffMs >= msLeft()) throw serviceBusy();
      await sleep(backoffMs);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
