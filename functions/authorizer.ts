/**
 * Lambda authorizer (HTTP API, payload 2.0, simple responses) for a generic OIDC issuer such as
 * Keycloak. It only authenticates; every handler authorizes. A missing or bad token throws the
 * literal error "Unauthorized", which API Gateway turns into 401 {"message":"Unauthorized"}
 * (returning isAuthorized: false would be a 403, any other error a 500). The error's `cause`
 * says why (expired, bad signature, wrong audience, ...): it goes to the logs, never to the client.
 *
 * API Gateway caches an accepted token's verdict for AUTHORIZER_CACHE_TTL_SECONDS; the verifier's
 * grace past `exp` is the clock tolerance minus that TTL, so a token is honoured until
 * exp + JWT_CLOCK_TOLERANCE_SECONDS at most, cached or not (shared/config.ts).
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { loadAuthorizerConfig } from '../shared/config.ts';
import type { AuthorizerContext } from '../shared/http/caller.ts';
import { SERVICE_NAME } from '../shared/service.ts';

const config = loadAuthorizerConfig();

/** Asymmetric algorithms only; aws-jwt-verify already refuses `none` and HMAC. */
const ALLOWED_ALGORITHMS = /^(RS|ES)(256|384|512)$/;

/**
 * aws-jwt-verify backs off (10 s per JWKS URI) when a fetched JWKS lacks the token's kid, but not
 * when the fetch itself fails: then a flood of tokens with random kids would fetch on every
 * request, hammering an issuer that is down and making each request wait on it. Failed fetches
 * start the same penalty here. (A genuinely new signing key is then refused for up to 10 s while
 * the issuer is unreachable, which it would be anyway.)
 */
const penaltyBox = new SimplePenaltyBox({ waitSeconds: 10 });
const fetcher = new SimpleFetcher();
const jwksCache = new SimpleJwksCache({
  penaltyBox,
  fetcher: {
    async fetch(uri, ...rest) {
      try {
        return await fetcher.fetch(uri, ...rest);
      } catch (error) {
        penaltyBox.registerFailedAttempt(uri);
        throw error;
      }
    },
  },
});

export const verifier = JwtVerifier.create({
  issuer: config.issuer,
  jwksUri: config.jwksUri,
  audience: config.audience,
  graceSeconds: config.verifierGraceSeconds,
  customJwtCheck: ({ header, payload }) => {
    if (!ALLOWED_ALGORITHMS.test(header.alg ?? '')) throw new Error(`algorithm ${header.alg} is not allowed`);
    // aws-jwt-verify checks exp only when present; a token without expiry lives forever.
    if (typeof payload.exp !== 'number') throw new Error('token has no exp claim');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('token has no sub claim');
  },
}, { jwksCache });

export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> {
  const header = event.headers?.authorization ?? event.identitySource?.[0] ?? '';
  const token = /^Bearer +(\S+)$/i.exec(header.trim())?.[1];
  if (!token) throw new Error('Unauthorized', { cause: new Error('the Authorization header is not "Bearer <token>"') });
  let payload: JwtPayload;
  try {
    payload = await verifier.verify(token);
  } catch (error) {
    logRejection((error as Error).message, event.requestContext?.requestId);
    throw new Error('Unauthorized', { cause: error });
  }
  return { isAuthorized: true, context: contextFrom(payload) };
}

/**
 * One structured JSON line per refused token. The authorizer runs on every request with a new
 * Authorization header (and again once its cached verdict expires), so it stays tiny: no Powertools here, which would triple its bundle. It
 * honours the same POWERTOOLS_LOG_LEVEL as the other functions.
 */
const logRejections = ['DEBUG', 'INFO', ''].includes((process.env.POWERTOOLS_LOG_LEVEL ?? '').toUpperCase());

function logRejection(reason: string, correlationId: string | undefined) {
  if (!logRejections) return;
  console.info(
    JSON.stringify({ level: 'INFO', service: SERVICE_NAME, message: 'token rejected', reason, correlation_id: correlationId }),
  );
}

/** What handlers need from the token, flattened (the context may hold only scalar values). */
export function contextFrom(payload: JwtPayload): AuthorizerContext {
  const realmAccess = payload.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realmAccess?.roles) ? realmAccess.roles.filter((r) => typeof r === 'string') : [];
  return {
    sub: payload.sub as string,
    email: typeof payload.email === 'string' ? payload.email : '',
    emailVerified: payload.email_verified === true,
    username: typeof payload.preferred_username === 'string' ? payload.preferred_username : '',
    roles: JSON.stringify(roles),
  };
}
