/**
 * The local stack for integration tests: a fresh table in the shared DynamoDB Local, an
 * ephemeral OIDC issuer, and the local API Gateway running the real authorizer and handlers.
 * Every response is checked against openapi.yaml (the contract test's second half).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { startLocalApi, type LocalApiOptions } from '../../local/api-gateway.ts';
import { createTable } from '../../local/create-table.ts';
import { LocalEventBus } from '../../local/event-bus.ts';
import { startEventPipe } from '../../local/event-pipe.ts';
import { startEventSources } from '../../local/event-sources.ts';
import { localFunctionEnvironment } from '../../local/environment.ts';
import { LocalIssuer, type TokenClaims } from '../../local/issuer.ts';
import { assertResponseMatchesSpec } from './openapi.ts';

export interface TestStack {
  readonly url: string;
  readonly tableName: string;
  /** The SES emulator the delivery function sends to (shared by all test files). */
  readonly sesEndpoint: string;
  /** The stream → delivery function and the sweep; only with `{ emailDelivery: true }`. */
  readonly events: { runSweep(): Promise<unknown>; runTimers(): Promise<unknown> } | undefined;
  /** The local event bus the event-publishing pipe puts to; only with `{ eventPublishing: true }` (also at GET /_local/events). */
  readonly eventBus: LocalEventBus | undefined;
  readonly issuer: LocalIssuer;
  /** Direct table access, for assertions on stored state and for simulating time passing. */
  readonly db: DynamoDBDocumentClient;
  readonly api: ApiClient;
  close(): Promise<void>;
}

/**
 * Rate limits high enough that no test but rate-limit.test.ts ever meets them (the defaults,
 * e.g. create 5/600 and organization update 5/60, would throttle files that create many
 * invitations or organizations per user).
 */
export const RELAXED_RATE_LIMITS: Readonly<Record<string, string>> = Object.freeze({
  RATE_LIMIT_CREATE: '1000/600',
  RATE_LIMIT_RESEND: '1000/600',
  RATE_LIMIT_CREATE_ORGANIZATION: '1000/600',
  RATE_LIMIT_UPDATE_ORGANIZATION: '1000/600',
});

export type UserFactory = ReturnType<typeof userFactory>;

/**
 * One stack for the calling test file: registers a `beforeAll` that starts it (with `env` on top
 * of the local function environment; pass `{}` for the service defaults) and an `afterAll` that
 * closes it. Call it at the top level of the file, before any other hook that uses the stack.
 *
 *     const { stack, user } = useTestStack();
 *
 * `stack` and `user` can be taken at module level although the stack starts later: they stand for
 * the started stack and its user factory, and throw if used before `beforeAll` has run.
 */
export function useTestStack(
  env: Readonly<Record<string, string>> = RELAXED_RATE_LIMITS,
  options: StackOptions = {},
): {
  stack: TestStack;
  user: UserFactory;
} {
  let started: TestStack | undefined;
  let users: UserFactory | undefined;
  beforeAll(async () => {
    started = await startTestStack({ ...env }, options);
    users = userFactory(started.issuer);
  });
  afterAll(async () => {
    await started?.close();
  });

  const current = (): TestStack => {
    if (!started) throw new Error('The test stack is not started yet: use it in tests and hooks, not at module level.');
    return started;
  };
  const stack: TestStack = {
    get url() {
      return current().url;
    },
    get tableName() {
      return current().tableName;
    },
    get sesEndpoint() {
      return current().sesEndpoint;
    },
    get events() {
      return current().events;
    },
    get eventBus() {
      return current().eventBus;
    },
    get issuer() {
      return current().issuer;
    },
    get db() {
      return current().db;
    },
    get api() {
      return current().api;
    },
    close: () => current().close(),
  };
  const user: UserFactory = (name, claims) => {
    current();
    return users!(name, claims);
  };
  return { stack, user };
}

export interface StackOptions {
  /**
   * Also run the event-driven half: the table stream feeding the email delivery function, and
   * the sweep (invoked by the test through `events.runSweep()`). Off by default, so that other
   * files' stored invitations do not change under them.
   */
  readonly emailDelivery?: boolean;
  /** Also run the event-publishing pipe: table stream → enrichment → a local event bus (`eventBus`). */
  readonly eventPublishing?: boolean;
  /** With emailDelivery: also fire the invitation timers every this many ms (default: never; tests call `events.runTimers()`). */
  readonly timerPeriodMs?: number;
  /** Local gateway options beyond the defaults (e.g. a short function timeout). */
  readonly gateway?: Pick<LocalApiOptions, 'functionTimeoutMs' | 'logRequests' | 'publishDocs'>;
}

/** Starts a stack. Call once per test file: handler modules read their environment once. */
export async function startTestStack(env: Record<string, string> = {}, options: StackOptions = {}): Promise<TestStack> {
  const dynamodbEndpoint = inject('dynamodbEndpoint');
  const sesEndpoint = inject('sesEndpoint');
  const tableName = `test-${randomUUID()}`;
  const issuer = LocalIssuer.ephemeral();
  Object.assign(
    process.env,
    localFunctionEnvironment({ tableName, dynamodbEndpoint, sesEndpoint, issuer }),
    { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    env,
  );
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint });
  await createTable(client, tableName);
  const events = options.emailDelivery
    ? await startEventSources({ dynamodbEndpoint, tableName, retryDelayMs: 200, timerPeriodMs: options.timerPeriodMs })
    : undefined;
  const eventBus = options.eventPublishing ? new LocalEventBus({ print: false }) : undefined;
  const pipe = eventBus ? await startEventPipe({ dynamodbEndpoint, tableName, bus: eventBus, retryDelayMs: 5 }) : undefined;
  const localRoutes = eventBus ? { '/_local/events': () => eventBus.events } : undefined;
  const gateway = await startLocalApi({ ...options.gateway, jwks: issuer.jwks, localRoutes });
  return {
    url: gateway.url,
    tableName,
    sesEndpoint: process.env.SES_ENDPOINT ?? sesEndpoint,
    events,
    eventBus,
    issuer,
    db: DynamoDBDocumentClient.from(client),
    api: new ApiClient(gateway.url),
    close: async () => {
      await gateway.close();
      await events?.stop();
      await pipe?.stop();
      client.destroy();
    },
  };
}

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  get<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('POST', path, options);
  }
  put<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('PUT', path, options);
  }
  delete<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('DELETE', path, options);
  }

  /** Sends a request and checks the response against openapi.yaml and the error conventions. */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    if (response.status === 204) {
      // No content: no body, and no Content-Type claiming one.
      if (text !== '') throw new Error(`${method} ${path} → 204 with a body: ${text.slice(0, 200)}`);
      const headers = Object.fromEntries(response.headers.entries());
      assertResponseMatchesSpec({ method, path, status: 204, body: '', headers });
      return { status: 204, headers: response.headers, body: undefined as T, text };
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (response.status === 204) {
      // No Content: nothing, not even a Content-Type.
      if (text !== '' || contentType !== '') throw new Error(`${method} ${path} → 204 with a body or Content-Type: ${contentType} ${text.slice(0, 200)}`);
      const headers = Object.fromEntries(response.headers.entries());
      assertResponseMatchesSpec({ method, path, status: 204, body: '', headers });
      return { status: 204, headers: response.headers, body: undefined as T, text };
    }
    if (!contentType.startsWith('application/json')) {
      throw new Error(`${method} ${path} → ${response.status} with Content-Type "${contentType}": ${text.slice(0, 200)}`);
    }
    const parsed = JSON.parse(text);
    if (response.status >= 400) assertErrorShape(method, path, response.status, parsed);
    if (response.status !== 404 || !parsed.message?.startsWith('No such route')) {
      assertResponseMatchesSpec({
        method,
        path,
        status: response.status,
        body: parsed,
        headers: Object.fromEntries(response.headers.entries()),
      });
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }
}

function assertErrorShape(method: string, path: string, status: number, body: any) {
  const gatewayUnauthorized = status === 401 && JSON.stringify(body) === '{"message":"Unauthorized"}';
  const ok = gatewayUnauthorized || (body.status === status && typeof body.message === 'string' && body.message.length > 0);
  if (!ok) throw new Error(`${method} ${path} → ${status}: error body is not {status, message}: ${JSON.stringify(body)}`);
  if (/at .+\.(ts|js):\d+|Exception|DynamoDB|TABLE|PK|SK/.test(body.message)) {
    throw new Error(`${method} ${path} → ${status}: error message leaks internals: ${body.message}`);
  }
}

/** Users with tokens from the stack's issuer. */
export function userFactory(issuer: LocalIssuer) {
  return (name: string, claims: Partial<TokenClaims> = {}) => {
    const sub = claims.sub ?? `${name}-${randomUUID().slice(0, 8)}`;
    const email = claims.email ?? `${sub}@example.com`;
    return {
      sub,
      email,
      token: issuer.token({ sub, email, username: name, ...claims }),
    };
  };
}

export function uniqueOrgName(prefix = 'org') {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
