/**
 * DynamoDB fault injection for tests whose handlers run in the test process (the local gateway
 * imports the real handler modules, so they share this process's AWS SDK).
 *
 * Two levels:
 *
 * - `injectDynamoDbFaults`: at the client's `send`, above the SDK's own retries. The service's
 *   clients are DynamoDBDocumentClient instances, which do not go through
 *   `DynamoDBClient.prototype.send`: both classes inherit `send` from the same smithy `Client`
 *   base, so that shared method is what gets spied on (it covers both kinds of client). A
 *   failure injected here reaches the service's code as is, exactly like the error the SDK
 *   throws once its own retries are exhausted; so "fail persistently" is simply every call.
 *
 * - `injectWireFaults`: at the HTTP handler, below the SDK's retries: the SDK deserializes a
 *   DynamoDB error response (or meets a real socket error) and applies its retry strategy
 *   before the service sees anything. Slower (real backoff), so used sparingly.
 *
 * Both restore themselves with `restore()` (or `vi.restoreAllMocks()`), and ignore the test's
 * own clients given in `ignore` (e.g. `stack.db`), so table assertions are never faulted.
 */
import {
  DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';

type AnyFunction = (this: any, ...args: any[]) => any;

// ---------------------------------------------------------------------------------------------
// Errors, shaped as the SDK throws them once its retries are exhausted

const metadata = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'INJECTED0000000000000000000000000000000000000000000000',
  attempts: 3,
  totalRetryDelay: 0,
});

export const dynamoErrors = {
  provisionedThroughputExceeded: () =>
    new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: metadata(400),
    }),
  throttling: () =>
    new ThrottlingException({ message: 'Throughput exceeds the current capacity for one or more global secondary indexes.', $metadata: metadata(400) }),
  requestLimitExceeded: () =>
    new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account.', $metadata: metadata(400) }),
  /** DynamoDB's unmodeled 503 (the SDK names the error after the response's error type). */
  serviceUnavailable: () =>
    new DynamoDBServiceException({
      name: 'ServiceUnavailable',
      $fault: 'server',
      message: 'The service is currently unavailable or busy.',
      $metadata: metadata(503),
    }),
  internalServerError: () =>
    new InternalServerError({ message: 'Internal server error', $metadata: metadata(500) }),
  /** A refused connection, as Node reports it (the SDK passes it through unchanged). */
  connectionRefused: () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: '127.0.0.1',
      port: 8000,
    }),
  /** Any other Node socket or DNS error, as Node reports it (e.g. EAI_AGAIN from getaddrinfo). */
  networkError: (code: string, syscall = 'getaddrinfo') =>
    Object.assign(new Error(`${syscall} ${code} dynamodb.us-east-1.amazonaws.com`), {
      code,
      errno: -3001,
      syscall,
      hostname: 'dynamodb.us-east-1.amazonaws.com',
    }),
  /** The SDK's own retry of a transaction (same request token) found the first attempt still running. */
  transactionInProgress: () =>
    new TransactionInProgressException({
      message: 'The transaction with the given request token is already in progress.',
      $metadata: metadata(400),
    }),
  /** A reset socket, as the SDK's Node HTTP handler reports it (it renames it TimeoutError). */
  connectionReset: () =>
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', name: 'TimeoutError' }),
  /**
   * A transaction cancelled because another transaction was writing one of its items: one
   * reason per item, TransactionConflict on the first, None on the others.
   */
  transactionConflict: (itemCount: number) =>
    new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict${', None'.repeat(Math.max(0, itemCount - 1))}]`,
      $metadata: metadata(400),
      CancellationReasons: [
        { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
        ...Array.from({ length: Math.max(0, itemCount - 1) }, () => ({ Code: 'None' })),
      ],
    }),
};

// ---------------------------------------------------------------------------------------------
// Client-level injection

/** The low-level operation of a command: 'TransactWriteItemsCommand' for a TransactWriteCommand too. */
export function operationOf(command: any): string {
  return (command?.clientCommand ?? command)?.constructor?.name ?? 'unknown';
}

export interface Fault {
  /** Low-level command class names, e.g. 'TransactWriteItemsCommand', 'GetItemCommand'. */
  readonly commands: readonly string[];
  /** Only calls whose input matches (the document-level input: plain JS values). */
  readonly where?: (input: any) => boolean;
  /** A fresh error per injected failure; gets the command's input. */
  readonly error: (input: any) => unknown;
  /** How many matching calls fail before the rest pass through. Default: every one. */
  readonly times?: number;
  /** The call reaches DynamoDB and is applied, then fails all the same (its answer lost after the SDK's retries). */
  readonly afterApplying?: boolean;
}

export interface InjectedCall {
  readonly operation: string;
  readonly input: any;
  /** Whether this call was failed by the injection. */
  readonly failed: boolean;
}

export interface FaultInjection {
  /** Every DynamoDB call the service made while injecting, in order. */
  readonly calls: InjectedCall[];
  /** Calls of one operation (e.g. 'TransactWriteItemsCommand'). */
  callsOf(operation: string): InjectedCall[];
  restore(): void;
}

export function sendOwner(): Record<string, AnyFunction> {
  let proto: object | null = DynamoDBDocumentClient.prototype;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'send')) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error('DynamoDBDocumentClient has no send method');
  // Both client kinds must share it, or faults would miss one of them.
  if (!(proto as object).isPrototypeOf(DynamoDBClient.prototype)) {
    throw new Error('DynamoDBClient and DynamoDBDocumentClient no longer share send(): update the fault injection');
  }
  return proto as Record<string, AnyFunction>;
}

/**
 * Fails selected DynamoDB commands of every DynamoDB client in this process (the handlers'
 * included), except the clients in `ignore`; everything else goes through unchanged.
 */
export function injectDynamoDbFaults(faults: readonly Fault[], options: { ignore?: readonly object[] } = {}): FaultInjection {
  const owner = sendOwner();
  const original = owner.send!;
  const ignored = new Set(options.ignore ?? []);
  const remaining = faults.map((fault) => fault.times ?? Infinity);
  const calls: InjectedCall[] = [];
  const spy = vi.spyOn(owner, 'send').mockImplementation(function (this: any, command: any, ...rest: any[]) {
    const isDynamoDb = this instanceof DynamoDBClient || this instanceof DynamoDBDocumentClient;
    if (!isDynamoDb || ignored.has(this)) return original.call(this, command, ...rest);
    const operation = operationOf(command);
    const index = faults.findIndex(
      (fault, i) => remaining[i]! > 0 && fault.commands.includes(operation) && (fault.where?.(command.input) ?? true),
    );
    calls.push({ operation, input: command.input, failed: index >= 0 });
    if (index < 0) return original.call(this, command, ...rest);
    remaining[index]!--;
    const fault = faults[index]!;
    if (fault.afterApplying) {
      const fail = () => Promise.reject(fault.error(command.input));
      return original.call(this, command, ...rest).then(fail, fail);
    }
    return Promise.reject(fault.error(command.input));
  } as AnyFunction);
  return {
    calls,
    callsOf: (operation) => calls.filter((c) => c.operation === operation),
    restore: () => spy.mockRestore(),
  };
}

// ---------------------------------------------------------------------------------------------
// Wire-level injection (below the SDK's retries)

/** 'DynamoDB_20120810.TransactWriteItems' → 'TransactWriteItems'. */
const targetOf = (request: any): string => {
  const headers = request?.headers ?? {};
  const target = Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-amz-target')?.[1];
  return typeof target === 'string' && target.startsWith('DynamoDB_') ? target.slice(target.indexOf('.') + 1) : '';
};

export type WireFault =
  /** DynamoDB answers with an error response: HTTP status and error type (e.g. ProvisionedThroughputExceededException). */
  | { readonly kind: 'response'; readonly status: number; readonly type: string; readonly message?: string }
  /**
   * A real socket fault: the request is sent to a closed port, to a server that resets it, to an
   * unresolvable host, or to a server that accepts the connection and never answers ('hang').
   */
  | { readonly kind: 'network'; readonly failure: 'refused' | 'reset' | 'dns' | 'hang' }
  /** The request reaches DynamoDB and is applied, but the response is lost (the socket resets). */
  | { readonly kind: 'lostResponse' };

export interface WireFaultSpec {
  /** Operations as in X-Amz-Target, e.g. 'TransactWriteItems', 'UpdateItem'. */
  readonly operations: readonly string[];
  readonly fault: WireFault;
  /** How many matching HTTP attempts fail. Default: every one. */
  readonly times?: number;
}

export interface WireFaultInjection {
  /** Every DynamoDB HTTP attempt of the service while injecting: operation and whether it was failed. */
  readonly attempts: Array<{ operation: string; failed: boolean }>;
  attemptsOf(operation: string): Array<{ operation: string; failed: boolean }>;
  restore(): Promise<void>;
}

/** A TCP server that accepts connections and resets them at once. */
async function resettingServer(): Promise<Server> {
  const server = createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A TCP server that accepts connections, reads what comes and never answers (closed on restore). */
export async function hangingServer(): Promise<Server> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as Server['close'];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function errorResponse(fault: Extract<WireFault, { kind: 'response' }>) {
  const body = Buffer.from(
    JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`, message: fault.message ?? fault.type }),
  );
  return {
    response: {
      statusCode: fault.status,
      reason: 'Injected',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(body.length),
        'x-amzn-requestid': 'INJECTED0000000000000000000000000000000000000000000000',
      },
      body: new Uint8Array(body),
    },
  };
}

/**
 * Fails selected DynamoDB operations at the HTTP layer of every DynamoDB client in this process,
 * except those in `ignore`. The SDK retries as it would against DynamoDB.
 */
export async function injectWireFaults(
  specs: readonly WireFaultSpec[],
  options: { ignore?: readonly object[] } = {},
): Promise<WireFaultInjection> {
  const probe = new DynamoDBClient({ region: 'us-east-1' });
  const handlerProto = Object.getPrototypeOf((probe.config as any).requestHandler) as Record<string, AnyFunction>;
  probe.destroy();
  if (typeof handlerProto.handle !== 'function') throw new Error('unexpected SDK request handler: no handle()');
  const original = handlerProto.handle;
  const ignoredHandlers = new Set(
    (options.ignore ?? []).map((client: any) => client?.config?.requestHandler).filter((h) => h !== undefined),
  );
  const remaining = specs.map((spec) => spec.times ?? Infinity);
  const attempts: Array<{ operation: string; failed: boolean }> = [];
  const reset = await resettingServer();
  const hang = await hangingServer();
  const refusedPort = await closedPort();
  const resetPort = (reset.address() as AddressInfo).port;
  const hangPort = (hang.address() as AddressInfo).port;

  const spy = vi.spyOn(handlerProto, 'handle').mockImplementation(async function (this: any, request: any, ...rest: any[]) {
    const operation = targetOf(request);
    if (!operation || ignoredHandlers.has(this)) return original.call(this, request, ...rest);
    const index = specs.findIndex((spec, i) => remaining[i]! > 0 && spec.operations.includes(operation));
    attempts.push({ operation, failed: index >= 0 });
    if (index < 0) return original.call(this, request, ...rest);
    remaining[index]!--;
    const { fault } = specs[index]!;
    if (fault.kind === 'response') return errorResponse(fault);
    if (fault.kind === 'lostResponse') {
      const { response } = await original.call(this, request, ...rest);
      response?.body?.destroy?.();
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', name: 'TimeoutError' });
    }
    const redirected = Object.assign(Object.create(Object.getPrototypeOf(request)), request, {
      headers: { ...request.headers },
      ...(fault.failure === 'refused' && { hostname: '127.0.0.1', port: refusedPort }),
      ...(fault.failure === 'reset' && { hostname: '127.0.0.1', port: resetPort }),
      ...(fault.failure === 'dns' && { hostname: 'dynamodb.unresolvable.invalid' }),
      ...(fault.failure === 'hang' && { hostname: '127.0.0.1', port: hangPort }),
    });
    return original.call(this, redirected, ...rest);
  } as AnyFunction);

  return {
    attempts,
    attemptsOf: (operation) => attempts.filter((a) => a.operation === operation),
    restore: async () => {
      spy.mockRestore();
      await new Promise<void>((resolve) => reset.close(() => resolve()));
      await new Promise<void>((resolve) => hang.close(() => resolve()));
    },
  };
}
