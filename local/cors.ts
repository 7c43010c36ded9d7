/**
 * What API Gateway's CORS configuration does to requests and responses, for the local gateway:
 * preflight answers, and the CORS headers on every other response (allowed origins only).
 */
import type { CorsSettings } from '../shared/deployment/http-api.ts';

/** The parts of a gateway response that CORS touches; a preflight answer already has its headers. */
interface CorsResponse {
  readonly headers: Record<string, string>;
  readonly preflight?: boolean;
}

/** The value of Access-Control-Allow-Origin for this Origin, or undefined when it is not allowed. */
export function allowedOrigin(cors: CorsSettings, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (cors.allowOrigins.includes('*')) return '*';
  return cors.allowOrigins.includes(origin) ? origin : undefined;
}

export function preflightHeaders(cors: CorsSettings, origin: string): Record<string, string> {
  const allowOrigin = allowedOrigin(cors, origin);
  if (!allowOrigin) return {};
  return {
    'access-control-allow-origin': allowOrigin,
    'access-control-allow-methods': cors.allowMethods.join(','),
    'access-control-allow-headers': cors.allowHeaders.join(','),
    'access-control-max-age': String(cors.maxAgeSeconds),
    ...(allowOrigin !== '*' && { vary: 'origin' }),
  };
}

/** The gateway's CORS headers on a response: the integration's own are dropped, then added for an allowed Origin. */
export function withCors<R extends CorsResponse>(response: R, cors: CorsSettings, origin: string | undefined): R {
  if (response.preflight) return response;
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !/^access-control-/i.test(name)));
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin) {
    headers['access-control-allow-origin'] = allowOrigin;
    headers['access-control-expose-headers'] = cors.exposeHeaders.join(',');
    if (allowOrigin !== '*') {
      const varyName = Object.keys(headers).find((name) => name.toLowerCase() === 'vary');
      if (varyName) headers[varyName] = `${headers[varyName]}, origin`;
      else headers.vary = 'origin';
    }
  }
  return { ...response, headers };
}
