/**
 * Issue 5, "prove it under attack": tokens.
 *
 * test/integration/gateway-and-authorizer.test.ts already proves, per bad token, the exact
 * 401 {"message":"Unauthorized"} on a few routes and that an organization name stays free. This
 * file adds what it does not cover:
 *
 * - every hostile token of that list (and a few more header tricks), sent with claims that WOULD
 *   write if honoured (the admin's sub, the invitee's email, the realm role admin) to every
 *   writing route, leaves the whole table identical (a full consistent Scan before and after),
 *   with a control proving the same requests with a valid token do write;
 * - a flood of tokens with random `kid`s does not turn the authorizer into a JWKS fetch
 *   amplifier: the JWKS endpoint (JWT_JWKS_URI, pointed at a connection-counting server) is
 *   reached at most once per aws-jwt-verify penalty window (10 s), whether the issuer is
 *   healthy or broken, and valid tokens keep working.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIssuer } from '../../local/issuer.ts';
import { orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { startJwksServer } from '../support/jwks-server.ts';
import { scanTable } from '../support/scan.ts';
import { RELAXED_RATE_LIMITS, uniqueOrgName, useTestStack } from '../support/stack.ts';

// The JWKS endpoint must exist before the stack starts: the authorizer reads JWT_JWKS_URI once.
const jwksServer = await startJwksServer();
afterAll(() => jwksServer.close());

const { stack, user } = useTestStack({ ...RELAXED_RATE_LIMITS, JWT_JWKS_URI: jwksServer.uri });

const UNAUTHORIZED = '{"message":"Unauthorized"}';

// ---------------------------------------------------------------------------------------------
// Helpers

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** A plain request (no spec checks: the point is the exact gateway answer). */
async function send(method: string, path: string, authorization: string | undefined, body?: unknown): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

function expectUnauthorized(response: RawResponse, label: string) {
  expect(response.status, `${label}: ${response.text}`).toBe(401);
  expect(response.contentType, label).toMatch(/^application\/json/);
  expect(response.text, label).toBe(UNAUTHORIZED);
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** RS256 over any header and payload with any RSA key. */
function rs256(privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'], header: object, payload: object) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function hs256(secret: string | Buffer, header: object, payload: object) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A kid shaped like Keycloak's (43 base64url characters), that the issuer does not have. */
const keycloakLikeKid = () => randomBytes(32).toString('base64url');

// ---------------------------------------------------------------------------------------------
// The target: an organization with a pending invitation, and claims that would let a token
// write everywhere if the authorizer let it through.

let admin: TestUser;
let invitee: TestUser;
let org: { id: number; name: string };
let invitationId: string;

beforeAll(async () => {
  const setup = await orgWithInvitation(stack, user);
  ({ admin, invitee, org } = setup);
  invitationId = setup.invitation.id;
});

/**
 * The admin's sub, the invitee's verified email and the realm role admin: honoured, these claims
 * may create organizations and invitations, resend, rename, and accept the invitation.
 */
function powerfulClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: stack.issuer.issuer,
    aud: stack.issuer.audience,
    sub: admin.sub,
    email: invitee.email,
    email_verified: true,
    preferred_username: 'mallory',
    realm_access: { roles: ['default-roles-jaqpot', 'admin'] },
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

/** A token the issuer really signed (the issuer's key and kid), with the given claim overrides. */
const issued = (overrides: Record<string, unknown> = {}) =>
  stack.issuer.signRaw({ alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid }, powerfulClaims(overrides));

const publicJwk = () => stack.issuer.jwks.keys[0]! as Record<string, unknown>;
const publicPem = () => createPublicKey({ key: publicJwk() as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;

/** The Authorization header value (undefined: no header). Built inside the test, once the stack runs. */
const HOSTILE: Array<[string, () => string | undefined]> = [
  ['no Authorization header', () => undefined],
  ['an empty Authorization header', () => ''],
  ['"Bearer " with nothing after it', () => 'Bearer '],
  ['"Bearer" and spaces only', () => 'Bearer    '],
  ['a valid token without the Bearer scheme', () => issued()],
  ['garbage', () => 'Bearer garbage'],
  ['three garbage segments', () => 'Bearer aaa.bbb.ccc'],
  ['four segments', () => `Bearer ${issued()}.${b64('extra')}`],
  ['alg "none", no signature', () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(powerfulClaims())}.`],
  ['alg "none" with the real kid', () => `Bearer ${b64({ alg: 'none', typ: 'JWT', kid: stack.issuer.kid })}.${b64(powerfulClaims())}.`],
  [
    'alg "none" keeping a genuine signature',
    () => {
      const [, payload, signature] = issued().split('.');
      return `Bearer ${b64({ alg: 'none', typ: 'JWT', kid: stack.issuer.kid })}.${payload}.${signature}`;
    },
  ],
  ['HS256 keyed with the public key PEM', () => `Bearer ${hs256(publicPem(), { alg: 'HS256', typ: 'JWT', kid: stack.issuer.kid }, powerfulClaims())}`],
  [
    'HS256 keyed with the public JWK JSON',
    () => `Bearer ${hs256(JSON.stringify(publicJwk()), { alg: 'HS256', typ: 'JWT', kid: stack.issuer.kid }, powerfulClaims())}`,
  ],
  [
    'HS256 keyed with the public key PEM, no kid',
    () => `Bearer ${hs256(publicPem(), { alg: 'HS256', typ: 'JWT' }, powerfulClaims())}`,
  ],
  [
    'another key with a plausible (Keycloak-shaped) kid',
    () => `Bearer ${rs256(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, { alg: 'RS256', typ: 'JWT', kid: keycloakLikeKid() }, powerfulClaims())}`,
  ],
  [
    "another key with the issuer's real kid",
    () => `Bearer ${LocalIssuer.ephemeral().signRaw({ alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid }, powerfulClaims())}`,
  ],
  [
    'another key, embedded in the header as "jwk"',
    () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = { ...publicKey.export({ format: 'jwk' }), kid: stack.issuer.kid };
      return `Bearer ${rs256(privateKey, { alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid, jwk }, powerfulClaims())}`;
    },
  ],
  [
    'another key, announced with "jku" and "x5u"',
    () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const header = { alg: 'RS256', typ: 'JWT', kid: 'attacker', jku: 'https://attacker.example/jwks.json', x5u: 'https://attacker.example/cert.pem' };
      return `Bearer ${rs256(privateKey, header, powerfulClaims())}`;
    },
  ],
  ['no kid at all', () => `Bearer ${rs256(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, { alg: 'RS256', typ: 'JWT' }, powerfulClaims())}`],
  ['expired (beyond the 30 s tolerance)', () => `Bearer ${issued({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 120 })}`],
  ['nbf 10 minutes ahead', () => `Bearer ${issued({ nbf: Math.floor(Date.now() / 1000) + 600 })}`],
  ['no exp', () => `Bearer ${issued({ exp: undefined })}`],
  ['exp as a string', () => `Bearer ${issued({ exp: String(Math.floor(Date.now() / 1000) + 3600) })}`],
  ['another issuer', () => `Bearer ${issued({ iss: 'https://evil.example/realms/jaqpot' })}`],
  ['the issuer with a trailing slash', () => `Bearer ${issued({ iss: `${stack.issuer.issuer}/` })}`],
  ['another audience', () => `Bearer ${issued({ aud: 'account' })}`],
  ['an audience list without ours', () => `Bearer ${issued({ aud: ['account', 'another-client'] })}`],
  ['no sub', () => `Bearer ${issued({ sub: undefined })}`],
  [
    'a payload altered after signing',
    () => {
      const [header, , signature] = stack.issuer
        .signRaw({ alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid }, powerfulClaims({ sub: 'nobody', email: 'nobody@example.com', realm_access: { roles: [] } }))
        .split('.');
      return `Bearer ${header}.${b64(powerfulClaims())}.${signature}`;
    },
  ],
  [
    "another token's signature",
    () => {
      const [header, payload] = issued().split('.');
      const [, , otherSignature] = issued({ sub: 'someone-else' }).split('.');
      return `Bearer ${header}.${payload}.${otherSignature}`;
    },
  ],
  [
    'a truncated signature',
    () => {
      const token = issued();
      return `Bearer ${token.slice(0, -4)}`;
    },
  ],
];

/**
 * Every writing route (and the reads), with bodies that would succeed for the powerful claims:
 * create an organization, invite, accept as the invitee, resend, rename.
 */
function attackRequests(): Array<[string, string, unknown?]> {
  return [
    ['POST', paths.organizations, { name: uniqueOrgName('forged'), contactEmail: 'forged@example.com', visibility: 'PUBLIC' }],
    ['POST', paths.invitations(org.name), { emails: [`forged-${randomUUID().slice(0, 8)}@example.com`] }],
    ['PUT', paths.invitation(org.name, invitationId), { status: 'ACCEPTED' }],
    ['POST', paths.resend(org.id, invitationId)],
    ['PATCH', `/v1/organizations/${org.id}/partial`, { name: uniqueOrgName('renamed'), contactEmail: 'forged@example.com', visibility: 'PUBLIC' }],
    ['GET', paths.invitations(org.name)],
    ['GET', paths.invitation(org.name, invitationId)],
    ['GET', paths.organization(org.name)],
    ['GET', '/v1/user/organizations'],
  ];
}

// ---------------------------------------------------------------------------------------------

describe('hostile tokens reach no handler and write nothing', () => {
  it.each(HOSTILE)('%s: 401 {"message":"Unauthorized"} on every route, the table unchanged', async (label, build) => {
    const authorization = build();
    const before = await scanTable(stack);

    for (const [method, path, body] of attackRequests()) {
      expectUnauthorized(await send(method, path, authorization, body), `${label}, ${method} ${path}`);
    }

    expect(await scanTable(stack)).toEqual(before);
  });

  it('control: the same requests with a valid token of the same claims do write', async () => {
    // Proves the harness above would notice: a token that passes the authorizer changes the table.
    const before = await scanTable(stack);
    const authorization = `Bearer ${issued()}`;

    const statuses: number[] = [];
    for (const [method, path, body] of attackRequests()) statuses.push((await send(method, path, authorization, body)).status);

    expect(statuses.every((status) => status !== 401 && status < 500), `statuses ${statuses.join(', ')}`).toBe(true);
    const after = await scanTable(stack);
    expect(after).not.toEqual(before);
    expect(after.length).toBeGreaterThan(before.length);
  });
});

describe('a flood of unknown kids does not make the authorizer hammer the JWKS endpoint', () => {
  /** 30 tokens with random kids, 15 sent at once and 15 one after another; all must be refused. */
  async function flood() {
    const token = () =>
      rs256(
        generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
        { alg: 'RS256', typ: 'JWT', kid: keycloakLikeKid() },
        powerfulClaims(),
      );
    const parallelTokens = Array.from({ length: 15 }, token);
    const sequentialTokens = Array.from({ length: 15 }, token);
    const started = Date.now();
    const responses = await Promise.all(parallelTokens.map((t) => send('GET', '/v1/user/organizations', `Bearer ${t}`)));
    for (const t of sequentialTokens) responses.push(await send('GET', '/v1/user/organizations', `Bearer ${t}`));
    const elapsedMs = Date.now() - started;
    responses.forEach((response, i) => expectUnauthorized(response, `random kid #${i + 1}`));
    // All inside one penalty window (10 s), or the bound below would not apply.
    expect(elapsedMs).toBeLessThan(8_000);
  }

  async function expectValidTokensStillWork() {
    const response = await send('GET', '/v1/user/organizations', `Bearer ${user('legit').token}`);
    expect(response.status, response.text).toBe(200);
  }

  // Runs first: a failed fetch registers no penalty in aws-jwt-verify, so it leaves no state behind.
  it('with a broken JWKS endpoint (TLS fails): at most one fetch attempt for 30 random kids', async () => {
    jwksServer.mode = 'reset';
    const before = jwksServer.connections();

    await flood();

    // One fetch attempt is up to 2 connections: aws-jwt-verify's SimpleFetcher retries a failed
    // request once, immediately.
    const connections = jwksServer.connections() - before;
    expect(connections, `${connections} connections to the JWKS endpoint for 30 tokens`).toBeLessThanOrEqual(2);
    await expectValidTokensStillWork();
  });

  it('with a healthy JWKS endpoint: one fetch for 30 random kids, then the penalty window holds', async () => {
    jwksServer.mode = 'serve';
    jwksServer.jwks = stack.issuer.jwks;
    const untrust = jwksServer.trustInProcess();
    try {
      const before = { connections: jwksServer.connections(), requests: jwksServer.requests() };

      await flood();

      const connections = jwksServer.connections() - before.connections;
      expect(connections, `${connections} connections to the JWKS endpoint for 30 tokens`).toBeLessThanOrEqual(1);
      expect(jwksServer.requests() - before.requests).toBeLessThanOrEqual(1);
      // The refetched JWKS is the issuer's: real tokens still verify.
      await expectValidTokensStillWork();
    } finally {
      untrust();
    }
  });
});
