/**
 * POST /v1/organizations/{orgName}/invitations against the local stack: validation, authorization,
 * de-duplication (within a request, against live invitations and against members), the stored
 * items, and that refused requests write nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalIssuer } from '../../local/issuer.ts';
import { addMember, answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, userFactory, useTestStack } from '../support/stack.ts';
import { addAdminMember, expireInvitation, storedGuard, storedInvitations } from '../support/table.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SEVEN_DAYS = 604_800;

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

function postInvitations(orgName: string, caller: TestUser | undefined, body: unknown) {
  return stack.api.post(paths.invitations(orgName), { token: caller?.token, body });
}

/** Posts a raw body with the given Content-Type. */
function postRaw(orgName: string, caller: TestUser, rawBody: string, contentType = 'application/json') {
  return stack.api.post(paths.invitations(orgName), {
    token: caller.token,
    rawBody,
    headers: { 'content-type': contentType },
  });
}

async function listInvitations(orgName: string, caller: TestUser) {
  const response = await stack.api.get(paths.invitations(orgName), { token: caller.token });
  expect(response.status, response.text).toBe(200);
  return response.body as any[];
}

/** A plain MEMBER: invited by `admin`, then accepted with the invitee's own token. */
const makeMember = (admin: TestUser, orgName: string) => addMember(stack, admin, orgName, user('member'));

/** An ADMIN member who is not the creator. The API has no promotion route, so it is stored directly. */
async function makeAdminMember(orgId: number): Promise<TestUser> {
  const admin = user('co-admin');
  await addAdminMember(stack, orgId, admin);
  return admin;
}

async function newOrg() {
  const creator = user('creator');
  const org = await createOrganization(stack, creator);
  return { creator, ...org };
}

function uniqueEmail(prefix = 'invitee') {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}@example.com`;
}

// ---------------------------------------------------------------------------------------------

describe('creating invitations', () => {
  it('creates one PENDING invitation per address and answers 201 with the invitations and no skips', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const emails = [uniqueEmail('first'), uniqueEmail('second'), uniqueEmail('third')];
    const before = Date.now();
    const response = await postInvitations(name, creator, { emails });
    const after = Date.now();

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    const invitations = response.body.invitations as any[];
    expect(invitations.map((i) => i.userEmail).sort()).toEqual([...emails].sort());
    expect(new Set(invitations.map((i) => i.id)).size).toBe(3);
    for (const invitation of invitations) {
      expect(invitation.id).toMatch(UUID_V4);
      expect(invitation.status).toBe('PENDING');
      expect(invitation.invitedBy).toBe(creator.sub);
      const createdAt = Date.parse(invitation.createdAt);
      expect(createdAt).toBeGreaterThanOrEqual(before);
      expect(createdAt).toBeLessThanOrEqual(after);
      const expiresAtSeconds = Date.parse(invitation.expirationDate) / 1000;
      expect(expiresAtSeconds).toBeGreaterThanOrEqual(Math.floor(before / 1000) + SEVEN_DAYS - 1);
      expect(expiresAtSeconds).toBeLessThanOrEqual(Math.ceil(after / 1000) + SEVEN_DAYS + 1);
    }

    // Stored: the invitations, each with a guard naming it, and the list shows them.
    const stored = await storedInvitations(stack, orgId);
    expect(stored.map((item) => item.id).sort()).toEqual(invitations.map((i) => i.id).sort());
    for (const invitation of invitations) {
      const guard = await storedGuard(stack, orgId, invitation.userEmail.toLowerCase());
      expect(guard?.invitationId).toBe(invitation.id);
    }
    const listed = await listInvitations(name, creator);
    expect(listed.map((i) => i.id).sort()).toEqual(invitations.map((i) => i.id).sort());
  });

  it('stores the address as given (trimmed) together with its normalized form', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const local = `Mixed.Case-${Math.random().toString(36).slice(2, 8)}`;
    const { invitations } = await invite(stack, creator, name, [`  ${local}@Example.COM\t`]);

    expect(invitations).toHaveLength(1);
    expect(invitations[0].userEmail).toBe(`${local}@Example.COM`);
    const [item] = await storedInvitations(stack, orgId);
    expect(item).toMatchObject({
      id: invitations[0].id,
      userEmail: `${local}@Example.COM`,
      emailNormalized: `${local.toLowerCase()}@example.com`,
      status: 'PENDING',
      invitedBy: creator.sub,
    });
    expect((await storedGuard(stack, orgId, `${local.toLowerCase()}@example.com`))?.invitationId).toBe(invitations[0].id);
  });

  it('collapses duplicates inside one request (case and surrounding spaces ignored) to the first spelling', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const email = uniqueEmail('Dup');
    const response = await postInvitations(name, creator, {
      emails: [email, ` ${email.toUpperCase()} `, email.toLowerCase(), `\t${email}`],
    });

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations).toHaveLength(1);
    expect(response.body.invitations[0].userEmail).toBe(email);
    expect(await storedInvitations(stack, orgId)).toHaveLength(1);
  });

  it('skips an address with a live pending invitation as ALREADY_INVITED, whatever its case or spacing', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const email = uniqueEmail();
    const first = await invite(stack, creator, name, [email]);

    const variant = ` ${email.toUpperCase()}  `;
    const response = await postInvitations(name, creator, { emails: [variant] });

    expect(response.status, response.text).toBe(201);
    expect(response.body).toEqual({
      invitations: [],
      skipped: [{ email: email.toUpperCase(), reason: 'ALREADY_INVITED' }],
    });
    const stored = await storedInvitations(stack, orgId);
    expect(stored.map((item) => item.id)).toEqual([first.invitations[0].id]);
  });

  it('creates the new addresses of a request and skips the already invited and member ones', async () => {
    const { creator, name } = await newOrg();
    const invited = uniqueEmail('invited');
    await invite(stack, creator, name, [invited]);
    const fresh = [uniqueEmail('fresh'), uniqueEmail('fresh')];

    const response = await postInvitations(name, creator, { emails: [fresh[0], invited, creator.email, fresh[1]] });

    expect(response.status, response.text).toBe(201);
    expect(response.body.invitations.map((i: any) => i.userEmail).sort()).toEqual([...fresh].sort());
    expect(response.body.skipped).toEqual(
      expect.arrayContaining([
        { email: invited, reason: 'ALREADY_INVITED' },
        { email: creator.email, reason: 'ALREADY_MEMBER' },
      ]),
    );
    expect(response.body.skipped).toHaveLength(2);
    const listed = await listInvitations(name, creator);
    expect(listed.map((i) => i.userEmail).sort()).toEqual([invited, ...fresh].sort());
  });

  it("skips the creator's own address, case changed, as ALREADY_MEMBER and stores nothing", async () => {
    const { creator, id: orgId, name } = await newOrg();
    const response = await postInvitations(name, creator, { emails: [creator.email.toUpperCase()] });

    expect(response.status, response.text).toBe(201);
    expect(response.body).toEqual({
      invitations: [],
      skipped: [{ email: creator.email.toUpperCase(), reason: 'ALREADY_MEMBER' }],
    });
    expect(await storedInvitations(stack, orgId)).toEqual([]);
  });

  it("skips a member who joined by accepting an invitation as ALREADY_MEMBER", async () => {
    const { creator, id: orgId, name } = await newOrg();
    const member = await makeMember(creator, name);

    const response = await postInvitations(name, creator, { emails: [member.email] });

    expect(response.status, response.text).toBe(201);
    expect(response.body).toEqual({ invitations: [], skipped: [{ email: member.email, reason: 'ALREADY_MEMBER' }] });
    expect(await storedInvitations(stack, orgId)).toHaveLength(1); // only the accepted one
  });

  it('does not let an expired pending invitation block a new one', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const email = uniqueEmail();
    const old = (await invite(stack, creator, name, [email])).invitations[0];
    await expireInvitation(stack, orgId, old.id);

    const response = await postInvitations(name, creator, { emails: [email] });

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations).toHaveLength(1);
    const fresh = response.body.invitations[0];
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.status).toBe('PENDING');
    expect((await storedGuard(stack, orgId, email))?.invitationId).toBe(fresh.id);
    const listed = await listInvitations(name, creator);
    expect(listed.map((i) => i.id).sort()).toEqual([old.id, fresh.id].sort());
  });

  it('lets a rejected invitation be followed by a new one', async () => {
    const { creator, name } = await newOrg();
    const invitee = user('invitee');
    const old = (await invite(stack, creator, name, [invitee.email])).invitations[0];
    await answerInvitation(stack, invitee, name, old.id, 'REJECTED');

    const response = await postInvitations(name, creator, { emails: [invitee.email] });

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations).toHaveLength(1);
    expect(response.body.invitations[0].id).not.toBe(old.id);
  });

  it('keeps organizations apart: an invitation in one does not block the same address in another', async () => {
    const a = await newOrg();
    const b = await newOrg();
    const email = uniqueEmail();
    await invite(stack, a.creator, a.name, [email]);

    const response = await postInvitations(b.name, b.creator, { emails: [email.toUpperCase()] });

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations.map((i: any) => i.userEmail)).toEqual([email.toUpperCase()]);
    expect(await storedInvitations(stack, a.id)).toHaveLength(1);
    expect(await storedInvitations(stack, b.id)).toHaveLength(1);
  });

  it('accepts exactly 10 addresses', async () => {
    const { creator, name } = await newOrg();
    const emails = Array.from({ length: 10 }, () => uniqueEmail('ten'));
    const { invitations, skipped } = await invite(stack, creator, name, emails);
    expect(invitations).toHaveLength(10);
    expect(skipped).toEqual([]);
  });

  it('accepts an address of exactly 254 characters', async () => {
    const { creator, name } = await newOrg();
    const address = longAddress(254);
    const { invitations } = await invite(stack, creator, name, [address]);
    expect(invitations.map((i) => i.userEmail)).toEqual([address]);
  });

  it('accepts a body of exactly 64 KB', async () => {
    const { creator, name } = await newOrg();
    const body = paddedBody([uniqueEmail()], 64 * 1024);
    const response = await postRaw(name, creator, body);
    expect(response.status, response.text).toBe(201);
    expect(response.body.invitations).toHaveLength(1);
  });
});

describe('who may create invitations', () => {
  it('allows the creator and an ADMIN member; each invitation names its inviter', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const coAdmin = await makeAdminMember(orgId);

    for (const caller of [creator, coAdmin]) {
      const response = await postInvitations(name, caller, { emails: [uniqueEmail()] });
      expect(response.status, response.text).toBe(201);
      expect(response.body.invitations).toHaveLength(1);
      expect(response.body.invitations[0].invitedBy).toBe(caller.sub);
    }
    expect((await storedInvitations(stack, orgId)).map((i) => i.invitedBy).sort()).toEqual([creator.sub, coAdmin.sub].sort());
  });

  it('allows a realm admin who is not a member', async () => {
    const { id: orgId, name } = await newOrg();
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    const response = await postInvitations(name, realmAdmin, { emails: [uniqueEmail()] });

    expect(response.status, response.text).toBe(201);
    expect(response.body.invitations).toHaveLength(1);
    expect(response.body.invitations[0].invitedBy).toBe(realmAdmin.sub);
    expect((await storedInvitations(stack, orgId)).map((i) => i.invitedBy)).toEqual([realmAdmin.sub]);
  });

  it('answers 401 to a plain MEMBER and writes nothing', async () => {
    const { creator, id: orgId, name } = await newOrg();
    const member = await makeMember(creator, name);

    const response = await postInvitations(name, member, { emails: [uniqueEmail()] });

    expect(response.status, response.text).toBe(401);
    expect(response.body.status).toBe(401);
    expect(await storedInvitations(stack, orgId)).toHaveLength(1); // the member's own, accepted
  });

  it('answers a stranger on a PRIVATE organization exactly as on an unknown one (404) and writes nothing', async () => {
    const { id: orgId, name } = await newOrg();
    const stranger = user('stranger');
    const response = await postInvitations(name, stranger, { emails: [uniqueEmail()] });
    const unknown = await postInvitations(`no-such-org-${Math.random().toString(36).slice(2, 10)}`, stranger, { emails: [uniqueEmail()] });
    expect(response.status, response.text).toBe(404);
    expect(response.body).toEqual({ status: 404, message: 'Organization not found.' });
    expect(response.body).toEqual(unknown.body);
    expect(await storedInvitations(stack, orgId)).toEqual([]);
  });

  it('answers 401 to a stranger on a PUBLIC organization and writes nothing', async () => {
    const creator = user('creator');
    const { id: orgId, name } = await createOrganization(stack, creator, { visibility: 'PUBLIC' });
    const response = await postInvitations(name, user('stranger'), { emails: [uniqueEmail()] });
    expect(response.status, response.text).toBe(401);
    expect(response.body).toEqual({ status: 401, message: 'Only organization admins can do this.' });
    expect(await storedInvitations(stack, orgId)).toEqual([]);
  });

  it.each([
    ['no token', () => undefined],
    ['a malformed token', () => ({ token: 'not-a-jwt' })],
    ['an expired token', () => ({ token: stack.issuer.token({ sub: 'late', email: 'late@example.com', expiresIn: -3600 }) })],
    ['a token from another issuer', () => ({ token: userFactory(otherIssuer())('mallory').token })],
  ])('answers the gateway 401 for %s and writes nothing', async (_label, caller) => {
    const { id: orgId, name } = await newOrg();
    const response = await stack.api.post(paths.invitations(name), {
      token: (caller() as { token?: string } | undefined)?.token,
      body: { emails: [uniqueEmail()] },
    });
    expect(response.status).toBe(401);
    expect(response.text).toBe('{"message":"Unauthorized"}');
    expect(await storedInvitations(stack, orgId)).toEqual([]);
  });

  it('answers 404 for an unknown organization', async () => {
    const response = await postInvitations(uniqueOrgName('missing'), user('someone'), { emails: [uniqueEmail()] });
    expect(response.status, response.text).toBe(404);
    expect(response.body.status).toBe(404);
  });

  it('answers 404 for an unknown organization even to a realm admin', async () => {
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    const response = await postInvitations(uniqueOrgName('missing'), realmAdmin, { emails: [uniqueEmail()] });
    expect(response.status, response.text).toBe(404);
  });
});

describe('invalid create requests', () => {
  let org: { creator: TestUser; id: number; name: string };
  beforeAll(async () => {
    org = await newOrg();
  });

  /** Sends a request expected to be refused with 400, then checks that nothing was written. */
  async function expectRejected(send: () => ReturnType<typeof postInvitations>) {
    const before = await storedInvitations(stack, org.id);
    const response = await send();
    expect(response.status, response.text).toBe(400);
    expect(response.body.status).toBe(400);
    expect(await storedInvitations(stack, org.id)).toEqual(before);
    expect(await listInvitations(org.name, org.creator)).toHaveLength(before.length);
  }

  const valid = () => uniqueEmail('valid');

  it.each([
    ['a missing "emails"', () => ({})],
    ['"emails" that is not an array', () => ({ emails: 'a@example.com' })],
    ['an empty "emails"', () => ({ emails: [] })],
    ['11 addresses', () => ({ emails: Array.from({ length: 11 }, valid) })],
    ['a number among the addresses', () => ({ emails: [valid(), 42] })],
    ['null among the addresses', () => ({ emails: [valid(), null] })],
    ['an object among the addresses', () => ({ emails: [{ email: valid() }] })],
    ['an address without "@"', () => ({ emails: [valid(), 'not-an-email'] })],
    ['an address with two "@"', () => ({ emails: ['a@b@example.com'] })],
    ['an address without a domain dot', () => ({ emails: ['someone@localhost'] })],
    ['an empty string', () => ({ emails: [''] })],
    ['an address of only spaces', () => ({ emails: ['   '] })],
    ['an address with inner whitespace', () => ({ emails: ['some one@example.com'] })],
    ['an address with a trailing LF', () => ({ emails: [`${valid()}\n`] })],
    ['an address with a CR LF inside', () => ({ emails: ['victim@example.com\r\nBcc: evil@example.com'] })],
    ['an address with a NUL character', () => ({ emails: ['nul\u0000@example.com'] })],
    ['an address with a control character', () => ({ emails: ['bell\u0007@example.com'] })],
    ['an address of 255 characters', () => ({ emails: [longAddress(255)] })],
    ['nine valid addresses and one invalid', () => ({ emails: [...Array.from({ length: 9 }, valid), 'nope'] })],
    ['a JSON array body', () => [valid()]],
    ['a JSON null body', () => null],
  ])('answers 400 for %s and writes nothing', async (_label, body) => {
    await expectRejected(() => postRaw(org.name, org.creator, JSON.stringify(body())));
  });

  it('answers 400 for malformed JSON', async () => {
    await expectRejected(() => postRaw(org.name, org.creator, `{"emails": ["${valid()}"`));
  });

  it('answers 400 for an empty body', async () => {
    await expectRejected(() => postRaw(org.name, org.creator, ''));
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'answers 400 for a valid JSON body sent as %s',
    async (contentType) => {
      await expectRejected(() => postRaw(org.name, org.creator, JSON.stringify({ emails: [valid()] }), contentType));
    },
  );

  it('answers 400 for a body one byte over 64 KB', async () => {
    await expectRejected(() => postRaw(org.name, org.creator, paddedBody([valid()], 64 * 1024 + 1)));
  });

  it('answers 400 for a body far over 64 KB', async () => {
    await expectRejected(() => postRaw(org.name, org.creator, paddedBody([valid()], 1024 * 1024)));
  });
});

// ---------------------------------------------------------------------------------------------

/** A valid address of exactly `length` characters: a 64-character local part and long domain labels. */
function longAddress(length: number): string {
  const local = 'l'.repeat(64);
  let remaining = length - local.length - '@'.length - '.com'.length;
  const labels: string[] = [];
  while (remaining > 0) {
    if (labels.length > 0) remaining -= 1; // the dot before this label
    const size = Math.min(63, remaining);
    labels.push(String.fromCharCode(97 + labels.length).repeat(size));
    remaining -= size;
  }
  const address = `${local}@${labels.join('.')}.com`;
  if (address.length !== length) throw new Error(`longAddress built ${address.length} characters, not ${length}`);
  return address;
}

/** A JSON body with the given emails, padded with an ignored field to exactly `bytes` bytes. */
function paddedBody(emails: string[], bytes: number): string {
  const empty = JSON.stringify({ emails, padding: '' });
  const body = JSON.stringify({ emails, padding: 'x'.repeat(bytes - Buffer.byteLength(empty)) });
  if (Buffer.byteLength(body) !== bytes) throw new Error('paddedBody miscounted');
  return body;
}

let cachedOtherIssuer: LocalIssuer | undefined;
/** An issuer whose keys the gateway does not trust. */
function otherIssuer(): LocalIssuer {
  cachedOtherIssuer ??= LocalIssuer.ephemeral();
  return cachedOtherIssuer;
}
