import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeadlineExceeded, deadlineSignal } from '../../deadline.ts';

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
 * (in flight or in the SDK's backoff) and fails with DeadlineExceeded, which `call` (operations.ts) makes a 503.
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
