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
import { AdminAuthorityLost, type AdminAuthority } from '../../domain/access.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Item } from './items.ts';
import { keys } from './keys.ts';

/** AWS error names meaning "busy or briefly unavailable": worth a 503 + Retry-After, never a 4xx. */
const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
  'TransactionInProgressException',
  // A single-item write meeting a transaction in flight on its item (e.g. demoting a member while
  // their admin write's ConditionCheck holds the membership): nothing written, the SDK does not retry it.
  'TransactionConflictException',
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
      await call(() => sendTransaction(client, items, randomUUID()));
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

/** Asks of one attempt that its first try is still running, at most, before answering 503. */
const IN_PROGRESS_ASKS = 8;

/**
 * One transaction attempt under its token, which makes the SDK's own retries of it idempotent.
 * When such a retry finds the first try still running (TransactionInProgressException: it timed
 * out on our side but DynamoDB is still applying it), ask again with the same token after a
 * pause, as DynamoDB advises: once the first try has ended, the same token answers with its
 * outcome. Answering 503 at once would tell the caller to retry a write that lands anyway.
 */
async function sendTransaction(client: DynamoDBDocumentClient, items: NonNullable<TransactWriteCommandInput['TransactItems']>, token: string) {
  for (let ask = 1; ; ask++) {
    try {
      return await client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: token }));
    } catch (error) {
      const inProgress = (error as Error).name === 'TransactionInProgressException';
      if (!inProgress || ask >= IN_PROGRESS_ASKS || !(await backoff(Math.min(1_000, 100 * 2 ** (ask - 1))))) throw error;
    }
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type MembershipAuthority = Extract<AdminAuthority, { kind: 'membership' }>;

/** Whether an admin's write must re-check their authority (an ADMIN membership; not a static one, not leaving). */
export function needsAuthorityCheck(authority: AdminAuthority | undefined): authority is MembershipAuthority {
  return authority?.kind === 'membership';
}

const AUTHORITY_CONDITION = {
  ConditionExpression: '#authorityRole = :authorityAdmin',
  ExpressionAttributeNames: { '#authorityRole': 'associationType' },
  ExpressionAttributeValues: { ':authorityAdmin': 'ADMIN' },
};

/**
 * An admin write, as one TransactWriteItems that holds only while the admin is one: when the
 * authority rests on an ADMIN membership (shared/domain/access.ts `AdminAuthority`), the
 * transaction also requires that membership item to still be there with associationType ADMIN
 * (a ConditionCheck, last, so the items' own cancellation reasons keep their indexes). A
 * demotion or removal landing after the authority was read then cancels the whole write.
 * DynamoDB refuses two operations on one item in a transaction: when the write itself touches
 * the caller's membership (an admin setting their own role), the condition is added to that
 * write instead.
 *
 * Throws AdminAuthorityLost (nothing written) when that condition failed; otherwise the
 * result of transactWrite, with one reason per given item.
 */
export async function transactWriteAsAdmin(
  client: DynamoDBDocumentClient,
  tableName: string,
  authority: AdminAuthority | undefined,
  items: TransactItem[],
): Promise<TransactionResult> {
  if (!needsAuthorityCheck(authority)) return transactWrite(client, items);
  const key = keys.membership(authority.orgId, authority.userId);
  const own = items.findIndex((item) => {
    const write = item.Put?.Item ?? (item.Update ?? item.Delete ?? item.ConditionCheck)?.Key;
    return write?.PK === key.PK && write?.SK === key.SK;
  });
  const checked = own >= 0
    ? items.map((item, i) => (i === own ? withAuthorityCondition(item) : item))
    : [...items, { ConditionCheck: { TableName: tableName, Key: key, ...AUTHORITY_CONDITION } }];
  const result = await transactWrite(client, checked);
  if (result.ok) return result;
  if (result.reasons[own >= 0 ? own : items.length]?.Code === 'ConditionalCheckFailed') throw new AdminAuthorityLost();
  return { ok: false, reasons: result.reasons.slice(0, items.length) };
}

/** The write with the authority condition added to its own. */
function withAuthorityCondition(item: TransactItem): TransactItem {
  const [kind, write] = Object.entries(item)[0] as [keyof TransactItem, Record<string, any>];
  return {
    [kind]: {
      ...write,
      ConditionExpression: write.ConditionExpression
        ? `(${write.ConditionExpression}) AND ${AUTHORITY_CONDITION.ConditionExpression}`
        : AUTHORITY_CONDITION.ConditionExpression,
      ExpressionAttributeNames: { ...write.ExpressionAttributeNames, ...AUTHORITY_CONDITION.ExpressionAttributeNames },
      ExpressionAttributeValues: { ...write.ExpressionAttributeValues, ...AUTHORITY_CONDITION.ExpressionAttributeValues },
    },
  };
}
