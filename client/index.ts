/**
 * The typed client of this API: openapi-fetch over the types openapi-typescript generates from
 * openapi.yaml (client/schema.d.ts, `npm run generate:client`; test/contract/client-types.test.ts
 * fails when they are stale). Paths, parameters, bodies and responses are checked at compile time:
 *
 *   const api = createInvitationsClient('http://127.0.0.1:3000', { token });
 *   const { data, error, response } = await api.GET('/v1/organizations/{orgName}', { params: { path: { orgName: 'acme' } } });
 *
 * Every call resolves (also on 4xx/5xx): `data` on 2xx, `error` (the `{status,message}` JSON)
 * otherwise, and the raw `response` always.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
export type InvitationsClient = Client<paths>;

export interface InvitationsClientOptions {
  /**
   * The bearer token (a JWT of the configured issuer) sent on every request, or a function that
   * returns it per request (e.g. a refreshing token). A request that sets its own Authorization
   * header keeps it. Without a token, requests go without one (the gateway answers 401).
   */
  readonly token?: string | (() => string | Promise<string>);
  /** Default: globalThis.fetch. */
  readonly fetch?: (input: Request) => Promise<Response>;
  /** Aborts each request after this many ms. Default: none. */
  readonly timeoutMs?: number;
}

export function createInvitationsClient(baseUrl: string, options: InvitationsClientOptions = {}): InvitationsClient {
  const client = createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), fetch: options.fetch });
  const { token, timeoutMs } = options;
  const requestOptions: Middleware = {
    async onRequest({ request }) {
      if (token !== undefined && !request.headers.has('authorization')) {
        request.headers.set('authorization', `Bearer ${typeof token === 'function' ? await token() : token}`);
      }
      if (timeoutMs === undefined) return request;
      return new Request(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]) });
    },
  };
  client.use(requestOptions);
  return client;
}
