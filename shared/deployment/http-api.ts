/**
 * What API Gateway itself does in front of the functions, defined once: the CDK stack
 * (infra/http-api.ts) configures the HTTP API from it and the local gateway (local/api-gateway.ts)
 * reproduces it from the same values. Plain TypeScript, no CDK.
 *
 * What API Gateway does with these settings (HTTP API developer guide, "Configure CORS for HTTP
 * APIs" and "Working with AWS Lambda authorizers for HTTP APIs"):
 * - With a CORS configuration it answers preflight OPTIONS requests itself, even without an
 *   OPTIONS route; but `$default` catches OPTIONS too, so with an authorizer on `$default` an
 *   `OPTIONS /{proxy+}` route without authorization is needed, or preflights get the authorizer's
 *   401 (PREFLIGHT_ROUTE below).
 * - CORS headers are returned only when the request has an `Origin` header; a preflight also
 *   needs `Access-Control-Request-Method`. API Gateway adds the configured CORS headers to the
 *   integration's response and ignores CORS headers the integration returns.
 * - The authorizer's identity source is the cache key: a request with the same Authorization
 *   header within the TTL gets the cached authorizer response without invoking the function. A
 *   simple response "fully allows or denies all API requests that match the cached identity
 *   source values" (for every route that uses the authorizer). A missing identity source is a
 *   401 without calling the authorizer.
 */
import type { Route } from './routes.ts';
import { FUNCTION_SIZES } from './function-sizes.ts';

/** Request headers a browser may send cross-origin beyond the CORS-safelisted ones. */
export const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key'] as const;

/** Every response header a client reads (browsers hide all but the safelisted ones otherwise). */
export const CORS_EXPOSE_HEADERS = [
  'location',
  'retry-after',
  'x-next-cursor',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'idempotent-replayed',
] as const;

/** How long browsers may reuse a preflight answer (Chromium caps it at 2 hours anyway). */
export const CORS_MAX_AGE_SECONDS = 7200;

/**
 * Default TTL of the authorizer's cached verdicts. Short, because the verifier's clock tolerance
 * pays for it (see authorizerVerifierGraceSeconds); 0 turns the cache off.
 */
export const DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS = 10;

/** API Gateway's upper limit for authorizerResultTtlInSeconds. */
export const MAX_AUTHORIZER_CACHE_TTL_SECONDS = 3600;

/**
 * The unauthenticated route that lets preflights past the `$default` authorizer. API Gateway
 * answers preflights (Origin + Access-Control-Request-Method) from the CORS configuration before
 * routing; a plain OPTIONS request without those headers reaches this route's integration, the
 * not-found function (a route needs one), and gets its JSON 404 like any unknown route.
 */
export const PREFLIGHT_ROUTE = { method: 'OPTIONS', path: '/{proxy+}', routeId: 'notFound' } as const;

export interface CorsSettings {
  /** Origins (scheme://host[:port]) or the single value `*`. */
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

export interface HttpApiSettings {
  readonly cors: CorsSettings;
  readonly authorizer: {
    /** The identity source, and so the cache key: the Authorization header. */
    readonly identityHeader: 'authorization';
    /** 0: no cache. */
    readonly cacheTtlSeconds: number;
  };
  /** Every route function (and the authorizer) is an `api` function: this is its Lambda timeout. */
  readonly functionTimeoutSeconds: number;
}

/**
 * The settings for a route table (shared/deployment/routes.ts; a parameter, so that the authorizer's bundle,
 * which uses the helpers below through shared/config.ts, does not carry the table).
 */
export function httpApiSettings(options: {
  routes: readonly Route[];
  allowedOrigins: readonly string[];
  authorizerCacheTtlSeconds: number;
}): HttpApiSettings {
  return {
    cors: {
      allowOrigins: [...options.allowedOrigins],
      allowMethods: corsAllowMethods(options.routes),
      allowHeaders: [...CORS_ALLOW_HEADERS],
      exposeHeaders: [...CORS_EXPOSE_HEADERS],
      maxAgeSeconds: CORS_MAX_AGE_SECONDS,
    },
    authorizer: { identityHeader: 'authorization', cacheTtlSeconds: options.authorizerCacheTtlSeconds },
    functionTimeoutSeconds: FUNCTION_SIZES.api.timeoutSeconds,
  };
}

/** The methods of the route table (a preflight asks about the method of the real request). */
export function corsAllowMethods(table: readonly Route[]): string[] {
  return [...new Set(table.map((route) => route.method).filter((method) => method !== 'ANY'))].sort();
}

/** The origins allowed by default: the frontend's origin, which the invitation links point at. */
export function defaultAllowedOrigins(frontendUrl: string): string[] {
  return URL.canParse(frontendUrl) ? [new URL(frontendUrl).origin] : [];
}

/** What is wrong with a list of allowed origins (empty when nothing is). */
export function allowedOriginProblems(origins: readonly string[], name: string): string[] {
  const problems: string[] = [];
  for (const origin of origins) {
    if (origin === '*') {
      if (origins.length > 1) problems.push(`${name} "*" cannot be combined with other origins`);
      continue;
    }
    if (!/^https?:\/\/[^/?#]+$/.test(origin) || !URL.canParse(origin) || new URL(origin).origin !== origin) {
      problems.push(`${name}: "${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`);
    }
  }
  return problems;
}

/** What is wrong with an authorizer cache TTL, given the verifier's clock tolerance. */
export function authorizerCacheTtlProblems(ttlSeconds: number, clockToleranceSeconds: number, names: { ttl: string; tolerance: string }): string[] {
  const problems: string[] = [];
  if (ttlSeconds > MAX_AUTHORIZER_CACHE_TTL_SECONDS) problems.push(`${names.ttl} must be at most ${MAX_AUTHORIZER_CACHE_TTL_SECONDS} (API Gateway's limit)`);
  if (ttlSeconds > clockToleranceSeconds) {
    problems.push(
      `${names.ttl} (${ttlSeconds}) must be at most ${names.tolerance} (${clockToleranceSeconds}): a cached verdict would honour a token beyond exp + ${clockToleranceSeconds} s`,
    );
  }
  return problems;
}

/**
 * The grace the authorizer's verifier allows past `exp`: the clock tolerance minus the cache TTL.
 * A token accepted at the last allowed moment (exp + grace) stays cached for at most the TTL, so
 * no request is let through after exp + tolerance, cached or not.
 */
export function authorizerVerifierGraceSeconds(clockToleranceSeconds: number, cacheTtlSeconds: number): number {
  return Math.max(0, clockToleranceSeconds - cacheTtlSeconds);
}
