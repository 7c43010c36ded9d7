/**
 * The local stack for integration tests: a fresh table in the shared DynamoDB Local, an
 * ephemeral OIDC issuer, and the local API Gateway running the real authorizer and handlers.
 * Every response is checked against openapi.yaml (the contract test's second half).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { startLocalApi } from '../../local/api-gateway.ts';
import { createTable } from '../../local/create-table.ts';
import { localFunctionEnvironment } from '../../local/environment.ts';
import { LocalIssuer, type TokenClaims } from '../../local/issuer.ts';
import { assertResponseMatchesSpec } from './openapi.ts';

export interface TestStack {
  readonly url: string;
  readonly tableName: string;
  readonly issuer: LocalIssuer;
  /** Direct table access, for assertions on stored state and for simulating time passing. */
  readonly db: DynamoDBDocumentClient;
  readonly api: ApiClient;
  close(): Promise<void>;
}

/** Starts a stack. Call once per test file: handler modules read their environment once. */
export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const dynamodbEndpoint = inject('dynamodbEndpoint');
  const tableName = `test-${randomUUID()}`;
  const issuer = LocalIssuer.ephemeral();
  Object.assign(
    process.env,
    localFunctionEnvironment({ tableName, dynamodbEndpoint, issuer }),
    { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    env,
  );
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint });
  await createTable(client, tableName);
  const gateway = await startLocalApi({ jwks: issuer.jwks });
  return {
    url: gateway.url,
    tableName,
    issuer,
    db: DynamoDBDocumentClient.from(client),
    api: new ApiClient(gateway.url),
    close: async () => {
      await gateway.close();
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
    const contentType = response.headers.get('content-type') ?? '';
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
