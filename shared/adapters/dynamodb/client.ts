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

/** One client per container, created at cold start. `endpoint` is only set for DynamoDB Local. */
export function createDocumentClient(options: { endpoint?: string } = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(options.endpoint && { endpoint: options.endpoint }),
    // Fail fast and let the SDK's retries (3 attempts, backoff) try again, well within API
    // Gateway's 30 s: a hung connection must not turn into a gateway timeout.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
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
      if (attempt >= MAX_TRANSACTION_ATTEMPTS) throw serviceBusy();
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
