/**
 * What the local gateway reproduces from API Gateway beyond routing: CORS (preflights answered
 * by the gateway without the authorizer, CORS headers for allowed origins only, on the gateway's
 * own errors too), the authorizer's verdict cache keyed by the Authorization header, and that a
 * token is honoured until exp + the clock tolerance at most, cached or not.
 *
 * The stack here runs with a 2 s clock tolerance and a 2 s cache, so the verifier's grace is 0:
 * what a request gets after `exp` shows whether it came from the cache.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { localHttpApiSettings, startLocalApi, type LocalApi } from '../../local/api-gateway.ts';
import { CORS_EXPOSE_HEADERS } from '../../shared/deployment/http-api.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const ALLOWED = 'http://localhost:3001'; // the origin of the local FRONTEND_URL: the default
const OTHER_ALLOWED = 'https://app.acme.test';
const DISALLOWED = 'https://evil.example';

const { stack, user } = useTestStack({
  ...RELAXED_RATE_LIMITS,
  ALLOWED_ORIGINS: `${ALLOWED},${OTHER_ALLOWED}`,
  JWT_CLOCK_TOLERANCE_SECONDS: '2',
  AUTHORIZER_CACHE_TTL_SECONDS: '2',
});

const extraGateways: LocalApi[] = [];
afterAll(async () => {
  for (const gateway of extraGateways) await gateway.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string, base = stack.url) {
  const response = await fetch(`${base}${path}`, { method, headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function corsHeadersOf(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers.entries()].filter(([name]) => name.startsWith('access-control-')));
}

describe('CORS preflight', () => {
  it('is answered by the gateway for an allowed origin, without a token and without the authorizer', async () => {
    const response = await raw('OPTIONS', '/v1/organizations/acme/invitations', {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,idempotency-key',
    });

    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect(corsHeadersOf(response.headers)).toEqual({
      'access-control-allow-origin': ALLOWED,
      'access-control-allow-methods': 'DELETE,GET,PATCH,POST,PUT',
      'access-control-allow-headers': 'authorization,content-type,idempotency-key',
      'access-control-max-age': '7200',
    });
    expect(response.headers.get('vary')).toBe('origin');
  });

  it('answers each configured origin with that origin', async () => {
    const response = await raw('OPTIONS', '/v1/user/organizations', { origin: OTHER_ALLOWED, 'access-control-request-method': 'GET' });
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_ALLOWED);
  });

  it('gives a disallowed origin no CORS header at all, so the browser blocks the request', async () => {
    const response = await raw('OPTIONS', '/v1/organizations', { origin: DISALLOWED, 'access-control-request-method': 'POST' });

    expect(response.status).toBe(204);
    expect(corsHeadersOf(response.headers)).toEqual({});
  });

  it('sends a bare OPTIONS request (no preflight headers) to the OPTIONS route: the JSON 404, token or not', async () => {
    const variants: Array<Record<string, string>> = [
      { origin: ALLOWED },
      { origin: ALLOWED, authorization: `Bearer ${user('opt').token}` },
      { origin: ALLOWED, authorization: 'Bearer garbage' },
    ];
    for (const headers of variants) {
      const response = await raw('OPTIONS', '/v1/organizations', headers);
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toEqual({ status: 404, message: 'No such route.' });
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    }
  });
});

describe('CORS headers on responses', () => {
  it('exposes every header a client reads to an allowed origin', async () => {
    const response = await raw('GET', '/v1/user/organizations', { origin: ALLOWED, authorization: `Bearer ${user('cors').token}` });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-expose-headers')!.split(',')).toEqual([...CORS_EXPOSE_HEADERS]);
    expect(response.headers.get('vary')).toBe('origin');
  });

  it('adds none for a disallowed origin or a request without Origin', async () => {
    const token = user('cors-other').token;
    for (const headers of [{ origin: DISALLOWED }, {}] as Array<Record<string, string>>) {
      const response = await raw('GET', '/v1/user/organizations', { ...headers, authorization: `Bearer ${token}` });
      expect(response.status).toBe(200);
      expect(corsHeadersOf(response.headers)).toEqual({});
    }
  });

  it("adds them to the gateway's own 401, 404 and 413 answers too, so a browser can read the status", async () => {
    const answers = [
      await raw('GET', '/v1/user/organizations', { origin: ALLOWED }),
      await raw('GET', '/v1/user/organizations', { origin: ALLOWED, authorization: 'Bearer garbage' }),
      await raw('GET', '/v1/nope', { origin: ALLOWED, authorization: `Bearer ${user('lost').token}` }),
      await raw('POST', '/v1/organizations', { origin: ALLOWED, 'content-type': 'application/json' }, 'x'.repeat(10 * 1024 * 1024 + 1)),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 404, 413]);
    for (const answer of answers) expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(answers[0]!.text).toBe('{"message":"Unauthorized"}');
  });
});

describe('authorizer cache and token lifetime', () => {
  function shortLivedToken() {
    const sub = `brief-${randomUUID().slice(0, 8)}`;
    const token = stack.issuer.token({ sub, email: `${sub}@example.com`, expiresIn: 1 });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    return { token, exp };
  }

  async function untilSecond(epochSeconds: number, extraMs = 100) {
    await sleep(Math.max(0, epochSeconds * 1000 + extraMs - Date.now()));
  }

  it('serves a verdict from the cache, per Authorization header value, until the TTL ends (never past exp + tolerance)', async () => {
    // exp is in whole seconds: start at the beginning of one, so the token lives about 1 s.
    await untilSecond(Math.floor(Date.now() / 1000) + 1, 20);
    const { token, exp } = shortLivedToken();
    const get = (authorization: string) => raw('GET', '/v1/user/organizations', { authorization });

    const first = await get(`Bearer ${token}`);
    const verifiedAt = Date.now();
    expect(first.status, first.text).toBe(200);

    await untilSecond(exp); // expired; the verifier's grace is 0 here (tolerance 2 − TTL 2)
    expect((await get(`Bearer ${token}`)).status).toBe(200); // the cached verdict
    expect((await get(`bearer ${token}`)).status).toBe(401); // another header value: verified, refused

    await sleep(Math.max(0, verifiedAt + 2000 + 100 - Date.now()));
    const afterTtl = await get(`Bearer ${token}`);
    expect(afterTtl.status).toBe(401);
    // The last moment it was honoured is within exp + the 2 s tolerance.
    expect(verifiedAt + 2000).toBeLessThanOrEqual((exp + 2) * 1000 + 200);
  });

  it('does not cache a refusal (a thrown Unauthorized is not an authorizer response)', async () => {
    const sub = `early-${randomUUID().slice(0, 8)}`;
    const nbf = Math.floor(Date.now() / 1000) + 1;
    const token = stack.issuer.token({ sub, email: `${sub}@example.com`, extra: { nbf } });

    expect((await raw('GET', '/v1/user/organizations', { authorization: `Bearer ${token}` })).status).toBe(401);
    await untilSecond(nbf);
    expect((await raw('GET', '/v1/user/organizations', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('asks the authorizer on every request when the TTL is 0', async () => {
    const uncached = await startLocalApi({
      jwks: stack.issuer.jwks,
      settings: { ...localHttpApiSettings(), authorizer: { identityHeader: 'authorization', cacheTtlSeconds: 0 } },
    });
    extraGateways.push(uncached);
    await untilSecond(Math.floor(Date.now() / 1000) + 1, 20);
    const { token, exp } = shortLivedToken();
    const get = () => raw('GET', '/v1/user/organizations', { authorization: `Bearer ${token}` }, undefined, uncached.url);

    expect((await get()).status).toBe(200);
    await untilSecond(exp);
    expect((await get()).status).toBe(401);
  });
});

describe('request log', () => {
  it("logs one line per request and the authorizer's reason for a 401, which the response does not carry", async () => {
    const lines: string[] = [];
    const logged = await startLocalApi({ jwks: stack.issuer.jwks, logRequests: (line) => lines.push(line) });
    extraGateways.push(logged);
    const expired = stack.issuer.token({ sub: 'late', email: 'late@example.com', expiresIn: -120 });
    const otherAudience = stack.issuer.token({ sub: 'aud', email: 'aud@example.com', extra: { aud: 'another-client' } });

    const refused = await raw('GET', '/v1/user/organizations?limit=1', { authorization: `Bearer ${expired}` }, undefined, logged.url);
    await raw('GET', '/v1/user/organizations', { authorization: `Bearer ${otherAudience}` }, undefined, logged.url);
    await raw('GET', '/v1/user/organizations', { authorization: `Bearer ${user('fine').token}` }, undefined, logged.url);
    await raw('GET', '/v1/user/organizations', {}, undefined, logged.url);

    expect(refused.text).toBe('{"message":"Unauthorized"}');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^GET \/v1\/user\/organizations 401 \d+ ms \(.*expired.*\)$/i);
    expect(lines[1]).toMatch(/^GET \/v1\/user\/organizations 401 \d+ ms \(.*audience.*\)$/i);
    expect(lines[2]).toMatch(/^GET \/v1\/user\/organizations 200 \d+ ms$/);
    expect(lines[3]).toMatch(/^GET \/v1\/user\/organizations 401 \d+ ms \(no Authorization header/);
  });
});
