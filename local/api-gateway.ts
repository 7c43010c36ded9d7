/**
 * A local stand-in for API Gateway (HTTP API): each HTTP request goes through the same route
 * table, Lambda authorizer and handler modules that AWS runs, as payload 2.0 events, with the
 * gateway settings the CDK stack deploys (shared/deployment/http-api.ts). What it reproduces:
 *
 * - The gateway's own answers: 401 {"message":"Unauthorized"} when the Authorization header is
 *   missing (the authorizer is not called) or the authorizer throws "Unauthorized", 403
 *   {"message":"Forbidden"} for isAuthorized=false, 500 {"message":"Internal Server Error"} for any
 *   other authorizer failure or a failed/timed-out integration, 413 over the 10 MB payload limit.
 * - CORS (HTTP API guide, "Configure CORS for HTTP APIs"): preflights (OPTIONS + Origin +
 *   Access-Control-Request-Method) are answered by the gateway without the authorizer; responses
 *   to an allowed Origin carry Access-Control-Allow-Origin and Access-Control-Expose-Headers; the
 *   integration's own Access-Control-* headers are dropped ("API Gateway ignores CORS headers
 *   returned from your backend integration"). The gateway's own answers get them too: live HTTP
 *   APIs return the CORS headers on Lambda authorizer denials (reported as the behaviour
 *   `sam local` misses, aws/aws-sam-cli#9087). The guide does not say what a preflight from a
 *   disallowed origin gets; here it is the same 204 without any CORS header, which is what makes
 *   the browser refuse (the browser test checks that outcome, not the status). A bare OPTIONS
 *   request reaches the OPTIONS /{proxy+} route, without authorization.
 * - The authorizer cache: verdicts the authorizer returns (allow and deny: a simple response
 *   "fully allows or denies all API requests that match the cached identity source values") are
 *   kept per Authorization header for the stack's TTL. A thrown error is not an authorizer
 *   response and is not cached: the guide documents caching the authorizer's response only.
 * - Lambda timeouts: each function gets FUNCTION_SIZES.api.timeoutSeconds; getRemainingTimeInMillis
 *   counts down to that deadline (middy ends a handler just before it with the service's own
 *   500), and past it the invocation has failed: the HTTP API's answer to a failed Lambda
 *   integration is 500 {"message":"Internal Server Error"} (HTTP API guide, "Troubleshooting
 *   issues with HTTP API Lambda integrations"). The functions' 10 s timeout is below the HTTP
 *   API's 30 s integration timeout, so Lambda's timeout error is what the gateway meets. Unlike
 *   Lambda, the timed-out handler is not frozen: it runs on in this process.
 *
 * Handlers run in this process, imported once each (like warm Lambda containers), so the
 * environment must be set before startLocalApi.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAuthorizerConfig } from '../shared/config.ts';
import {
  allowedOriginProblems,
  defaultAllowedOrigins,
  httpApiSettings,
  PREFLIGHT_ROUTE,
  type HttpApiSettings,
} from '../shared/deployment/http-api.ts';
import { authorizerEntry, docsRoutes, routes, type Route } from '../shared/deployment/routes.ts';
import type { Jwks } from './issuer.ts';
import { preflightHeaders, withCors } from './cors.ts';
import { FunctionTimeout, invoke, type LambdaHandler } from './lambda-runtime.ts';
import { matchRoute } from './route-match.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Bounds the verdict cache (a client sending a new token per request must not grow it forever). */
const MAX_CACHED_VERDICTS = 10_000;

export interface LocalApiOptions {
  port?: number;
  host?: string;
  /** Preloaded into the authorizer's verifier (aws-jwt-verify fetches JWKS only over https). */
  jwks: Jwks;
  /** Default: from the environment, as the stack's context sets them (see localHttpApiSettings). */
  settings?: HttpApiSettings;
  /** Lambda timeout of every function, in ms. Default: the settings' functionTimeoutSeconds. */
  functionTimeoutMs?: number;
  /**
   * One line per request (method, path, status, ms), and on a 401 the authorizer's reason. Only
   * here, never in the response. `true` prints to the console.
   */
  logRequests?: boolean | ((line: string) => void);
  /**
   * Local-only helpers (no AWS counterpart, no authorizer): GET `path` answers 200 with the JSON
   * of what the function returns, e.g. `/_local/events`, the events published to the local bus.
   */
  localRoutes?: Readonly<Record<string, () => unknown>>;
  /**
   * Serve the API reference routes (shared/deployment/routes.ts docsRoutes) without the
   * authorizer, through their handler, as the stack does with the context publishDocs=true.
   */
  publishDocs?: boolean;
}

export interface LocalApi {
  readonly url: string;
  readonly server: Server;
  readonly settings: HttpApiSettings;
  close(): Promise<void>;
}

/**
 * The gateway settings from the environment, mirroring the stack's context: ALLOWED_ORIGINS
 * (`allowedOrigins`; default: the origin of FRONTEND_URL) and AUTHORIZER_CACHE_TTL_SECONDS
 * (`authorizerCacheTtlSeconds`, validated against the clock tolerance as the authorizer does).
 */
export function localHttpApiSettings(env: NodeJS.ProcessEnv = process.env): HttpApiSettings {
  const listed = (env.ALLOWED_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean);
  const allowedOrigins = listed.length > 0 ? [...new Set(listed)] : defaultAllowedOrigins(env.FRONTEND_URL ?? '');
  const problems = allowedOriginProblems(allowedOrigins, 'ALLOWED_ORIGINS');
  if (problems.length > 0) throw new Error(`Invalid local gateway configuration:\n- ${problems.join('\n- ')}`);
  return httpApiSettings({ routes, allowedOrigins, authorizerCacheTtlSeconds: loadAuthorizerConfig(env).cacheTtlSeconds });
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const settings = options.settings ?? localHttpApiSettings();
  const modules = new Map<string, Promise<LambdaHandler>>();
  const load = (entry: string) => {
    let handler = modules.get(entry);
    if (!handler) {
      handler = import(pathToFileURL(join(repoRoot, entry)).href).then(async (module) => {
        if (entry === authorizerEntry) module.verifier.cacheJwks(options.jwks);
        return module.handler as LambdaHandler;
      });
      modules.set(entry, handler);
    }
    return handler;
  };
  // Import everything up front so configuration errors show at start, as on a cold start.
  const served = options.publishDocs ? [...routes, ...docsRoutes] : routes;
  await Promise.all([authorizerEntry, ...new Set(served.map((route) => route.entry))].map(load));

  const log = options.logRequests === true ? (line: string) => console.log(line) : options.logRequests || undefined;
  const gateway: Gateway = {
    settings,
    load,
    verdicts: new VerdictCache(settings.authorizer.cacheTtlSeconds * 1000),
    timeoutMs: options.functionTimeoutMs ?? settings.functionTimeoutSeconds * 1000,
    localRoutes: options.localRoutes ?? {},
    docsRoutes: options.publishDocs ? docsRoutes : [],
  };
  const server = createServer((req, res) => {
    const started = performance.now();
    respond(req, gateway)
      .catch((error): GatewayResponse => {
        console.error('local api gateway error', error);
        return internalError();
      })
      .then((response) => {
        send(res, withCors(response, settings.cors, req.headers.origin));
        log?.(requestLine(req, response, performance.now() - started));
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    settings,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface Gateway {
  readonly settings: HttpApiSettings;
  readonly load: (entry: string) => Promise<LambdaHandler>;
  readonly verdicts: VerdictCache;
  readonly timeoutMs: number;
  readonly localRoutes: Readonly<Record<string, () => unknown>>;
  readonly docsRoutes: readonly Route[];
}

interface GatewayResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
  /** A preflight answer: carries its own CORS headers. */
  readonly preflight?: boolean;
  /** Why the request was refused or failed: for the server's log only. */
  readonly reason?: string;
}

type Verdict = { readonly isAuthorized: boolean; readonly context: unknown };

async function respond(req: IncomingMessage, gateway: Gateway): Promise<GatewayResponse> {
  const body = await readBody(req);
  if (body === undefined) return gatewayError(413, 'Request Entity Too Large');
  // Concatenated, not resolved: a request target like "//host/v1/..." is a path, not a URL.
  const url = new URL(`http://localhost${req.url ?? '/'}`);
  const method = (req.method ?? 'GET').toUpperCase();
  const headers = joinHeaders(req);

  // The gateway answers preflights itself, before routing and authorization.
  if (method === 'OPTIONS' && headers.origin && headers['access-control-request-method']) {
    return { status: 204, headers: preflightHeaders(gateway.settings.cors, headers.origin), body: '', preflight: true };
  }
  const localRoute = method === 'GET' ? gateway.localRoutes[url.pathname] : undefined;
  if (localRoute) return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(localRoute()) };

  const preflightRoute = method === PREFLIGHT_ROUTE.method && url.pathname !== '/';
  // Public routes are matched before the route table, as API Gateway prefers a full path to {proxy+}/$default.
  const docsRoute = method === 'GET' ? gateway.docsRoutes.find((route) => route.path === url.pathname) : undefined;
  const match = preflightRoute
    ? { route: routes.find((r) => r.id === PREFLIGHT_ROUTE.routeId)!, pathParameters: { proxy: decodeProxy(url.pathname.slice(1)) } }
    : docsRoute
      ? { route: docsRoute, pathParameters: {} }
      : matchRoute(method, url.pathname)!;
  const routeKey = preflightRoute ? `${PREFLIGHT_ROUTE.method} ${PREFLIGHT_ROUTE.path}` : routeKeyOf(match.route);
  const requestId = randomUUID();
  const now = Date.now();
  const requestContext = {
    accountId: 'local',
    apiId: 'local',
    domainName: url.host,
    domainPrefix: 'local',
    http: {
      method,
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? '',
    },
    requestId,
    routeKey,
    stage: '$default',
    time: new Date(now).toUTCString(),
    timeEpoch: now,
  };

  let authorizer: { lambda: unknown } | undefined;
  if (!preflightRoute && !docsRoute) {
    const verdict = await authorize(gateway, headers, {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:local:local:local/$default/${method}${url.pathname}`,
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: queryParameters(url),
      pathParameters: match.pathParameters,
      requestContext,
    });
    if ('status' in verdict) return verdict;
    authorizer = { lambda: verdict.context ?? {} };
  }

  const isText = /^(application\/(.+\+)?json|text\/|application\/x-www-form-urlencoded)/i.test(headers['content-type'] ?? '');
  const event = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: queryParameters(url),
    pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : undefined,
    requestContext: authorizer ? { ...requestContext, authorizer } : requestContext,
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
  };
  let result: { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean };
  try {
    result = (await invoke(await gateway.load(match.route.entry), event, match.route.id, gateway.timeoutMs)) as typeof result;
  } catch (error) {
    if (!(error instanceof FunctionTimeout)) console.error(`${match.route.id} failed`, error);
    return internalError((error as Error).message);
  }
  const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  return { status: result.statusCode, headers: { ...result.headers, 'x-request-id': requestId }, body: payload };
}

/** The authorizer's verdict (from the cache when it has one), or the gateway's refusal. */
async function authorize(gateway: Gateway, headers: Record<string, string>, event: Record<string, unknown>): Promise<Verdict | GatewayResponse> {
  // Identity source: the Authorization header. Without it the gateway answers 401 itself.
  const identity = headers[gateway.settings.authorizer.identityHeader];
  if (!identity) return { ...gatewayError(401, 'Unauthorized'), reason: 'no Authorization header (the authorizer is not called)' };
  let verdict = gateway.verdicts.get(identity);
  if (!verdict) {
    try {
      const authorizer = await gateway.load(authorizerEntry);
      const result = (await invoke(authorizer, { ...event, identitySource: [identity] }, 'authorizer', gateway.timeoutMs)) as {
        isAuthorized?: unknown;
        context?: unknown;
      };
      verdict = { isAuthorized: result?.isAuthorized === true, context: result?.context };
    } catch (error) {
      const cause = (error as Error).cause;
      if ((error as Error).message === 'Unauthorized') {
        return { ...gatewayError(401, 'Unauthorized'), reason: cause instanceof Error ? cause.message : 'the authorizer refused the token' };
      }
      if (!(error instanceof FunctionTimeout)) console.error('authorizer failed', error);
      return internalError(`authorizer failed: ${(error as Error).message}`);
    }
    gateway.verdicts.set(identity, verdict);
  }
  return verdict.isAuthorized ? verdict : { ...gatewayError(403, 'Forbidden'), reason: 'the authorizer answered isAuthorized: false' };
}

/** Verdicts per identity-source value, each for the TTL (0: nothing is kept). */
class VerdictCache {
  private readonly entries = new Map<string, { verdict: Verdict; expiresAt: number }>();
  constructor(private readonly ttlMs: number) {}

  get(identity: string): Verdict | undefined {
    const entry = this.entries.get(identity);
    if (!entry) return undefined;
    if (Date.now() < entry.expiresAt) return entry.verdict;
    this.entries.delete(identity);
    return undefined;
  }

  set(identity: string, verdict: Verdict) {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= MAX_CACHED_VERDICTS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(identity, { verdict, expiresAt: Date.now() + this.ttlMs });
  }
}

function routeKeyOf(route: Route): string {
  return route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
}

function decodeProxy(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function gatewayError(status: number, message: string): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

function internalError(reason?: string): GatewayResponse {
  return { ...gatewayError(500, 'Internal Server Error'), reason };
}

function requestLine(req: IncomingMessage, response: GatewayResponse, ms: number): string {
  const path = (req.url ?? '/').split('?')[0];
  const line = `${req.method} ${path} ${response.status} ${Math.round(ms)} ms`;
  return response.reason ? `${line} (${response.reason})` : line;
}

function send(res: ServerResponse, response: GatewayResponse) {
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}

/** The body, or undefined when over API Gateway's payload limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Payload 2.0: header names lower case, repeated headers joined with commas. */
function joinHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (value) headers[name.toLowerCase()] = value.join(',');
  }
  return headers;
}

function queryParameters(url: URL): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const name of new Set(url.searchParams.keys())) params[name] = url.searchParams.getAll(name).join(',');
  return Object.keys(params).length ? params : undefined;
}
