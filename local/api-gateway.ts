/**
 * A local stand-in for API Gateway (HTTP API): each HTTP request goes through the same route
 * table, Lambda authorizer and handler modules that AWS runs, as payload 2.0 events. It mirrors
 * the gateway's own answers: 401 {"message":"Unauthorized"} when the Authorization header is
 * missing or the authorizer throws "Unauthorized", 403 for isAuthorized=false, 500 for any other
 * authorizer failure, 413 over the 10 MB payload limit.
 *
 * Handlers run in this process, imported once each (like warm Lambda containers), so the
 * environment must be set before the first request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { authorizerEntry, matchRoute, routes } from '../shared/routes.ts';
import type { Jwks } from './issuer.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalApiOptions {
  port?: number;
  host?: string;
  /** Preloaded into the authorizer's verifier (aws-jwt-verify fetches JWKS only over https). */
  jwks: Jwks;
}

export interface LocalApi {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
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
  await Promise.all([authorizerEntry, ...new Set(routeEntries())].map(load));

  const server = createServer((req, res) => {
    handle(req, res, load).catch((error) => {
      console.error('local api gateway error', error);
      send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function routeEntries() {
  return routes.map((route) => route.entry);
}

async function handle(req: IncomingMessage, res: ServerResponse, load: (entry: string) => Promise<LambdaHandler>) {
  const body = await readBody(req);
  if (body === undefined) {
    return send(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Entity Too Large' }));
  }
  // Concatenated, not resolved: a request target like "//host/v1/..." is a path, not a URL.
  const url = new URL(`http://localhost${req.url ?? '/'}`);
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(method, url.pathname)!;
  const routeKey = match.route.path === '$default' ? '$default' : `${match.route.method} ${match.route.path}`;
  const headers = joinHeaders(req);
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

  // Identity source: the Authorization header. Without it the gateway answers 401 itself.
  const authorization = headers.authorization;
  if (!authorization) return unauthorized(res);
  let authorizerContext: unknown;
  try {
    const authorizer = await load(authorizerEntry);
    const verdict = (await authorizer(
      {
        version: '2.0',
        type: 'REQUEST',
        routeArn: `arn:aws:execute-api:local:local:local/$default/${method}${url.pathname}`,
        identitySource: [authorization],
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters: queryParameters(url),
        pathParameters: match.pathParameters,
        requestContext,
      },
      lambdaContext('authorizer'),
    )) as { isAuthorized?: boolean; context?: unknown };
    if (verdict?.isAuthorized !== true) {
      return send(res, 403, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Forbidden' }));
    }
    authorizerContext = verdict.context ?? {};
  } catch (error) {
    if ((error as Error).message === 'Unauthorized') return unauthorized(res);
    console.error('authorizer failed', error);
    return send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
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
    requestContext: { ...requestContext, authorizer: { lambda: authorizerContext } },
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
  };
  const handler = await load(match.route.entry);
  const result = (await handler(event, lambdaContext(match.route.id))) as {
    statusCode: number;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
  };
  const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  return send(res, result.statusCode, { ...result.headers, 'x-request-id': requestId }, payload);
}

function unauthorized(res: ServerResponse) {
  send(res, 401, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Unauthorized' }));
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
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

/** A Lambda context good enough for Powertools and middy. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
