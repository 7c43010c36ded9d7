/**
 * The gateway and the Lambda authorizer, black-box over HTTP: every missing, malformed or hostile
 * token is a 401 {"message":"Unauthorized"} that reaches no handler; unknown routes are the
 * service's JSON 404 (after authentication); no error response leaks a stack trace.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalIssuer } from '../../local/issuer.ts';
import { createOrganization, invite, orgWithInvitation, paths } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { expireInvitation, storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

const UNAUTHORIZED_BODY = '{"message":"Unauthorized"}';

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** A plain HTTP request, bypassing the ApiClient's spec checks. */
async function send(
  method: string,
  path: string,
  options: { authorization?: string; body?: string; contentType?: string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const response = await fetch(`${stack.url}${path}`, { method, headers, body: options.body });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

function expectUnauthorized(response: RawResponse) {
  expect(response.status, response.text).toBe(401);
  expect(response.contentType).toMatch(/^application\/json/);
  expect(response.text).toBe(UNAUTHORIZED_BODY);
}

/** Every error: JSON, the documented shape, and nothing that looks like a stack trace or internals. */
function expectCleanError(response: RawResponse, status: number) {
  expect(response.status, response.text).toBe(status);
  expect(response.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(response.text);
  expect(typeof body.message).toBe('string');
  if (response.text !== UNAUTHORIZED_BODY) expect(body.status).toBe(status);
  expect(Object.keys(body).every((key) => ['status', 'message', 'code'].includes(key))).toBe(true);
  expect(response.text).not.toMatch(/\bat .+[.:]\d+|\.(ts|js):\d+|stack|Exception|TypeError|ReferenceError|node_modules/);
}

function base64urlJson(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function validPayload(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: stack.issuer.issuer,
    aud: stack.issuer.audience,
    sub: `attacker-${randomUUID().slice(0, 8)}`,
    email: 'attacker@example.com',
    email_verified: true,
    realm_access: { roles: ['admin'] },
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
}

function hs256Token(secret: string | Buffer) {
  const signingInput = `${base64urlJson({ alg: 'HS256', typ: 'JWT', kid: stack.issuer.kid })}.${base64urlJson(validPayload())}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

function publicKeyPem() {
  const jwk = stack.issuer.jwks.keys[0]!;
  return createPublicKey({ key: jwk as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
}

type Authorization = string | undefined;

function userToken(extra: Record<string, unknown> = {}, expiresIn?: number) {
  const sub = `bad-${randomUUID().slice(0, 8)}`;
  return stack.issuer.token({ sub, email: `${sub}@example.com`, realmRoles: ['admin'], expiresIn, extra });
}

function unsignedToken(alg: string) {
  return `${base64urlJson({ alg, typ: 'JWT', kid: stack.issuer.kid })}.${base64urlJson(validPayload())}.`;
}

/**
 * Each entry: a label and a builder for the full Authorization header value (undefined: no
 * header at all). Builders run inside the test, once the stack (and its issuer) exists.
 */
const BAD_AUTHORIZATIONS: Array<[string, () => Authorization]> = [
  ['no Authorization header', () => undefined],
  ['an empty Authorization header', () => ''],
  ['"Bearer " with no token', () => 'Bearer '],
  ['"Bearer" alone', () => 'Bearer'],
  ['Basic credentials', () => `Basic ${Buffer.from('alice:secret').toString('base64')}`],
  ['a valid token without the Bearer scheme', () => userToken()],
  ['a valid token followed by another word', () => `Bearer ${userToken()} extra`],
  ['a garbage token', () => 'Bearer not.a.jwt'],
  ['a garbage single word', () => 'Bearer garbage'],
  [
    'a token with a tampered payload',
    () => {
      const [header, , signature] = userToken().split('.');
      return `Bearer ${header}.${base64urlJson(validPayload())}.${signature}`;
    },
  ],
  ['an expired token (beyond the 30 s tolerance)', () => `Bearer ${userToken({}, -120)}`],
  ['a token without exp', () => `Bearer ${userToken({ exp: undefined })}`],
  ['a token without sub', () => `Bearer ${userToken({ sub: undefined })}`],
  ['a token from another issuer', () => `Bearer ${userToken({ iss: 'https://evil' })}`],
  ['a token for another audience', () => `Bearer ${userToken({ aud: 'another-client' })}`],
  ['a token not valid for 10 more minutes (nbf)', () => `Bearer ${userToken({ nbf: Math.floor(Date.now() / 1000) + 600 })}`],
  ['an unsigned alg "none" token', () => `Bearer ${unsignedToken('none')}`],
  ['an unsigned alg "None" token', () => `Bearer ${unsignedToken('None')}`],
  ['an HS256 token keyed with the public key PEM', () => `Bearer ${hs256Token(publicKeyPem())}`],
  ['an HS256 token keyed with the public JWK', () => `Bearer ${hs256Token(JSON.stringify(stack.issuer.jwks.keys[0]))}`],
  ['an HS256 token keyed with the modulus', () => `Bearer ${hs256Token(String(stack.issuer.jwks.keys[0]!.n))}`],
  [
    'a token signed by another key with the same kid',
    () => `Bearer ${LocalIssuer.ephemeral().signRaw({ alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid }, validPayload())}`,
  ],
  ['a token with an unknown kid', () => `Bearer ${LocalIssuer.ephemeral().token({ sub: 'other', email: 'other@example.com' })}`],
];

// ---------------------------------------------------------------------------------------------

describe('authorizer: bad tokens are 401 {"message":"Unauthorized"} and reach no handler', () => {
  it.each(BAD_AUTHORIZATIONS)(
    'refuses %s',
    async (_label, buildAuthorization) => {
      const authorization = buildAuthorization();
      const name = uniqueOrgName('blocked');
      const body = JSON.stringify({ name, contactEmail: 'contact@example.com', visibility: 'PUBLIC' });

      expectUnauthorized(await send('POST', '/v1/organizations', { authorization, body, contentType: 'application/json' }));
      expectUnauthorized(await send('GET', '/v1/user/organizations', { authorization }));
      expectUnauthorized(await send('GET', paths.organization(name), { authorization }));

      // Nothing was written: the name is still free for a real user.
      const created = await stack.api.post('/v1/organizations', {
        token: user('legit').token,
        body: { name, contactEmail: 'contact@example.com', visibility: 'PUBLIC' },
      });
      expect(created.status, created.text).toBe(201);
    },
  );

  it('refuses bad tokens on the invitation routes too, changing nothing', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const invitationId = invitation.id;
    const expiredInvitee = stack.issuer.token({ sub: invitee.sub, email: invitee.email, expiresIn: -120 });
    const forgedInvitee = LocalIssuer.ephemeral().signRaw(
      { alg: 'RS256', typ: 'JWT', kid: stack.issuer.kid },
      validPayload({ sub: invitee.sub, email: invitee.email }),
    );

    for (const authorization of [undefined, `Bearer ${expiredInvitee}`, `Bearer ${forgedInvitee}`]) {
      expectUnauthorized(
        await send('PUT', paths.invitation(org.name, invitationId), {
          authorization,
          body: JSON.stringify({ status: 'ACCEPTED' }),
          contentType: 'application/json',
        }),
      );
      expectUnauthorized(await send('GET', paths.invitation(org.name, invitationId), { authorization }));
      expectUnauthorized(await send('POST', paths.resend(org.id, invitationId), { authorization }));
      expectUnauthorized(
        await send('POST', paths.invitations(org.name), {
          authorization,
          body: JSON.stringify({ emails: ['someone@example.com'] }),
          contentType: 'application/json',
        }),
      );
    }

    const read = await stack.api.get(paths.invitation(org.name, invitationId), { token: admin.token });
    expect(read.body).toEqual(invitation);
    expect(read.body).toMatchObject({ status: 'PENDING', emailStatus: 'PENDING', sendCount: 0 });
    expect(read.body.userId).toBeUndefined();
    // Not resent: still the first and only email request.
    expect(await storedInvitation(stack, org.id, invitationId)).toMatchObject({ deliverySeq: 1, emailRequestedAt: invitation.createdAt });
    const list = await stack.api.get(paths.invitations(org.name), { token: admin.token });
    expect(list.body.map((i: { userEmail: string }) => i.userEmail)).toEqual([invitee.email]);
  });
});

describe('authorizer: valid tokens', () => {
  it('accepts a token that expired within the 30 s clock tolerance', async () => {
    const token = stack.issuer.token({ sub: `late-${randomUUID().slice(0, 8)}`, email: 'late@example.com', expiresIn: -5 });

    const response = await send('GET', '/v1/user/organizations', { authorization: `Bearer ${token}` });

    expect(response.status, response.text).toBe(200);
    expect(JSON.parse(response.text)).toEqual([]);
  });

  it('accepts the scheme in any case', async () => {
    const { token } = user('casual');

    const response = await send('GET', '/v1/user/organizations', { authorization: `bearer ${token}` });

    expect(response.status, response.text).toBe(200);
  });
});

describe('gateway: unknown routes', () => {
  const unknownRoutes: Array<[string, string]> = [
    ['GET', '/v1/nope'],
    ['GET', '/'],
    ['GET', '/v1/organizations/acme/invitations/x/y/z'],
    ['POST', '/v1/organizations/acme/invitations/x/y/z'],
    ['DELETE', '/v1/organizations'],
    ['PUT', '/v1/organizations'],
    ['DELETE', '/v1/organizations/acme'],
    ['PATCH', '/v1/organizations/acme/invitations'],
    ['GET', '/v1/organizations/1/invitations/x/resend'],
    ['GET', '/v1/organizations/'],
  ];

  it.each(unknownRoutes)('answers %s %s with a JSON 404 {status, message} to an authenticated caller', async (method, path) => {
    const response = await send(method, path, { authorization: `Bearer ${user('wanderer').token}` });

    expectCleanError(response, 404);
    expect(JSON.parse(response.text)).toEqual({ status: 404, message: expect.any(String) });
  });

  it.each(unknownRoutes)('answers %s %s with 401 without a token', async (method, path) => {
    expectUnauthorized(await send(method, path));
  });

  it('answers an unknown route with a bad token with 401, not 404', async () => {
    expectUnauthorized(await send('GET', '/v1/nope', { authorization: 'Bearer garbage' }));
  });
});

describe('every error response is JSON without internals', () => {
  it('holds for 400, 401, 404, 409 and 410 responses across the routes', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const invitationId = invitation.id;
    const stranger = user('stranger');
    const auth = (u: { token: string }) => `Bearer ${u.token}`;
    const expired = (await invite(stack, admin, org.name, [user('late').email])).invitations[0];
    await expireInvitation(stack, org.id, expired.id);
    const json = 'application/json';
    const unverified = user('unverified', { sub: invitee.sub, email: invitee.email, emailVerified: false });
    const publicOrg = await createOrganization(stack, admin, { visibility: 'PUBLIC' });

    const cases: Array<[number, Promise<RawResponse>]> = [
      [400, send('POST', '/v1/organizations', { authorization: auth(admin), body: '{"name":', contentType: json })],
      [400, send('POST', '/v1/organizations', { authorization: auth(admin), body: 'x'.repeat(70 * 1024), contentType: json })],
      [400, send('POST', '/v1/organizations', { authorization: auth(admin), body: '{"name":"ok-name"}', contentType: 'text/plain' })],
      [400, send('POST', '/v1/organizations', { authorization: auth(admin), body: JSON.stringify({ id: 1, name: 'abc', contactEmail: 'a@b.co', visibility: 'PUBLIC' }), contentType: json })],
      [400, send('POST', paths.invitations(org.name), { authorization: auth(admin), body: '{"emails":[1]}', contentType: json })],
      [400, send('GET', paths.invitation(org.name, 'not-a-uuid'), { authorization: auth(admin) })],
      [400, send('GET', paths.invitation(org.name, invitationId), { authorization: auth(unverified) })],
      [400, send('PUT', paths.invitation(org.name, invitationId), { authorization: auth(invitee), body: '{"status":"NOPE"}', contentType: json })],
      [400, send('POST', paths.resend('abc', invitationId), { authorization: auth(admin) })],
      [400, send('GET', `${paths.invitations(org.name)}?limit=0`, { authorization: auth(admin) })],
      // The organization is PRIVATE: to a stranger it does not exist (404); a PUBLIC one is 401.
      [404, send('POST', paths.resend(org.id, invitationId), { authorization: auth(stranger) })],
      [404, send('POST', paths.invitations(org.name), { authorization: auth(stranger), body: '{"emails":["a@example.com"]}', contentType: json })],
      [401, send('POST', paths.invitations(publicOrg.name), { authorization: auth(stranger), body: '{"emails":["a@example.com"]}', contentType: json })],
      [401, send('GET', '/v1/user/organizations', { authorization: 'Bearer expired.token.here' })],
      [404, send('GET', paths.organization(uniqueOrgName('missing')), { authorization: auth(admin) })],
      [404, send('GET', paths.organization(org.name), { authorization: auth(stranger) })],
      [404, send('GET', paths.invitation(org.name, randomUUID()), { authorization: auth(admin) })],
      [404, send('PUT', paths.invitation(org.name, invitationId), { authorization: auth(stranger), body: '{"status":"ACCEPTED"}', contentType: json })],
      [404, send('POST', paths.resend(987654321, invitationId), { authorization: auth(admin) })],
      [404, send('GET', '/v1/nope', { authorization: auth(admin) })],
      [409, send('POST', '/v1/organizations', { authorization: auth(stranger), body: JSON.stringify({ name: org.name, contactEmail: 'c@example.com', visibility: 'PUBLIC' }), contentType: json })],
      [410, send('POST', paths.resend(org.id, expired.id), { authorization: auth(admin) })],
    ];

    for (const [status, pending] of cases) expectCleanError(await pending, status);
  });
});
