/**
 * The DynamoDB calls every store makes, with this service's error handling: outages become a
 * 503 (UNAVAILABLE), failed conditions come back as values, and retries back off within the
 * invocation's deadline (shared/deadline.ts).
 */
import {
  BatchGetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { backoff } from '../../deadline.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Item } from './items.ts';

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

/** Every item a Query matches, page after page. */
export async function queryAll(client: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await call(() => client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** BatchGetItem (strongly consistent) that follows UnprocessedKeys and chunks by 100 keys. */
export async function batchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  itemKeys: Array<{ PK: string; SK: string }>,
): Promise<Item[]> {
  const found: Item[] = [];
  for (let i = 0; i < itemKeys.length; i += 100) {
    let pending: Item[] | undefined = itemKeys.slice(i, i + 100);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0 && !(await backoff(20 * 2 ** attempt))) throw serviceBusy();
      const keysToGet: Item[] = pending;
      const response = await call(() =>
        client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keysToGet, ConsistentRead: true } } }),
        ),
      );
      found.push(...(response.Responses?.[tableName] ?? []));
      pending = response.UnprocessedKeys?.[tableName]?.Keys;
      if (attempt >= 5 && pending?.length) throw serviceBusy();
    }
  }
  return found;
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
      // No attempt left, or none that could finish before the deadline: answer now.
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !(await backoff(Math.random() * 25 * 2 ** attempt))) throw serviceBusy();
    }
  }
}
