/**
 * Organizations: create (POST /v1/organizations), read one (GET /v1/organizations/{name}) and
 * list the caller's (GET /v1/user/organizations and GET /v1/organizations).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { addMember, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { storedItem, storedMembership } from '../support/table.ts';

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function validBody(overrides: Record<string, unknown> = {}) {
  return { name: uniqueOrgName(), contactEmail: 'contact@example.com', visibility: 'PRIVATE', ...overrides };
}

function postOrganization(caller: Pick<TestUser, 'token'>, body: unknown) {
  return stack.api.post(paths.organizations, { token: caller.token, body });
}

function getOrganization(name: string, caller: Pick<TestUser, 'token'>) {
  return stack.api.get(paths.organization(name), { token: caller.token });
}

async function expectNameFree(name: string) {
  const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
  expect((await getOrganization(name, realmAdmin)).status).toBe(404);
  expect(await storedItem(stack, keys.organizationName(name))).toBeUndefined();
}

async function listOrganizations(caller: TestUser) {
  const responses = await Promise.all(
    ['/v1/user/organizations', '/v1/organizations'].map((path) => stack.api.get(path, { token: caller.token })),
  );
  for (const response of responses) expect(response.status, response.text).toBe(200);
  expect(responses[0]!.body).toEqual(responses[1]!.body);
  return responses[0]!.body as any[];
}

// ---------------------------------------------------------------------------------------------

describe('POST /v1/organizations', () => {
  it('answers 201 with Location and the organization, whose creator is the caller', async () => {
    const alice = user('alice');
    const body = validBody({ visibility: 'PUBLIC' });

    const response = await postOrganization(alice, body);

    expect(response.status, response.text).toBe(201);
    expect(response.headers.get('location')).toBe(`/v1/organizations/${body.name}`);
    expect(Number.isInteger(response.body.id)).toBe(true);
    expect(response.body).toMatchObject({
      name: body.name,
      contactEmail: 'contact@example.com',
      visibility: 'PUBLIC',
      creator: { id: alice.sub, username: 'alice', email: alice.email },
      canEdit: true,
      isMember: true,
    });
    expect(response.body.created_at).toMatch(ISO_DATE_TIME);
    expect(response.body.updated_at).toMatch(ISO_DATE_TIME);
  });

  it('stores the optional fields and returns them on read', async () => {
    const alice = user('alice');
    const body = validBody({
      description: 'Models for everyone.',
      contactPhone: '+30 210 000 0000',
      website: 'https://example.org',
      address: '1 Main St., Athens, Greece',
    });

    const created = await postOrganization(alice, body);
    const read = await getOrganization(body.name, alice);

    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject(body);
    expect(read.body).toMatchObject(body);
  });

  it('makes the creator an ADMIN member', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice);

    expect(await storedMembership(stack, org.id, alice.sub)).toMatchObject({ userId: alice.sub, associationType: 'ADMIN' });
    const read = await getOrganization(org.name, alice);
    expect(read.body.organizationMembers).toEqual([
      { userId: alice.sub, username: 'alice', email: alice.email, associationType: 'ADMIN' },
    ]);
  });

  it('ignores read-only fields a client echoes back (creator, members, flags, dates)', async () => {
    const alice = user('alice');
    const mallory = user('mallory');
    const body = validBody({
      creator: { id: mallory.sub },
      organizationMembers: [{ userId: mallory.sub, associationType: 'ADMIN' }],
      canEdit: false,
      isMember: false,
      created_at: '2000-01-01T00:00:00Z',
    });

    const response = await postOrganization(alice, body);

    expect(response.status, response.text).toBe(201);
    expect(response.body.creator.id).toBe(alice.sub);
    expect(response.body.created_at).not.toBe('2000-01-01T00:00:00Z');
    const read = await getOrganization(body.name, alice);
    expect(read.body.organizationMembers).toEqual([expect.objectContaining({ userId: alice.sub, associationType: 'ADMIN' })]);
    expect((await getOrganization(body.name, mallory)).status).toBe(404);
  });

  it('accepts names of exactly 3 and 200 characters of letters, digits, "_" and "-"', async () => {
    const alice = user('alice');
    const short = `a_${randomUUID().slice(0, 1)}`;
    const long = `${randomUUID()}-${'x_'.repeat(100)}`.slice(0, 200);

    for (const name of [short, long]) {
      const response = await postOrganization(alice, validBody({ name }));
      expect(response.status, response.text).toBe(201);
      expect(response.body.name).toBe(name);
    }
  });

  it('gives every organization a distinct integer id', async () => {
    const alice = user('alice');
    const bob = user('bob');

    const orgs = await Promise.all([alice, bob, alice, bob, alice].map((caller) => createOrganization(stack, caller)));

    const ids = orgs.map((org) => org.id);
    for (const id of ids) expect(Number.isInteger(id) && id > 0).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // The id read back is the id returned.
    expect((await getOrganization(orgs[0]!.name, alice)).body.id).toBe(ids[0]);
  });

  it('answers a name clash with 409 and leaves the existing organization as it was', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const org = await createOrganization(stack, alice, { visibility: 'PRIVATE' });

    const clash = await postOrganization(bob, validBody({ name: org.name, visibility: 'PUBLIC' }));

    expect(clash.status).toBe(409);
    expect(clash.body).toEqual({ status: 409, message: expect.any(String) });
    const read = await getOrganization(org.name, alice);
    expect(read.body).toMatchObject({ id: org.id, visibility: 'PRIVATE', creator: { id: alice.sub } });
    expect(read.body.organizationMembers).toHaveLength(1);
    expect(await storedMembership(stack, org.id, bob.sub)).toBeUndefined();
    expect(await listOrganizations(bob)).toEqual([]);
    // The same creator cannot take the name twice either.
    expect((await postOrganization(alice, validBody({ name: org.name }))).status).toBe(409);
  });

  it('lets exactly one of 5 parallel creates of the same name win; the rest get 409', async () => {
    const name = uniqueOrgName('race');
    const callers = Array.from({ length: 5 }, (_, i) => user(`racer${i}`));

    const responses = await Promise.all(callers.map((caller) => postOrganization(caller, validBody({ name }))));

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    const winnerIndex = responses.findIndex((r) => r.status === 201);
    const winner = callers[winnerIndex]!;
    const read = await getOrganization(name, winner);
    expect(read.body).toMatchObject({ id: responses[winnerIndex]!.body.id, creator: { id: winner.sub } });
    expect(read.body.organizationMembers).toEqual([expect.objectContaining({ userId: winner.sub, associationType: 'ADMIN' })]);
    for (const loser of callers.filter((c) => c !== winner)) expect(await listOrganizations(loser)).toEqual([]);
  });

  describe('bad bodies (400), nothing written', () => {
    it.each([
      ['no name', { name: undefined }],
      ['no contactEmail', { contactEmail: undefined }],
      ['no visibility', { visibility: undefined }],
      ['a null name', { name: null }],
      ['a numeric name', { name: 12345 }],
      ['visibility in lower case', { visibility: 'public' }],
      ['an unknown visibility', { visibility: 'SECRET' }],
      ['a contactEmail that is not an address', { contactEmail: 'not-an-email' }],
      ['a contactEmail without a domain', { contactEmail: 'contact@' }],
      ['an id', { id: 5 }],
      ['an id of 0', { id: 0 }],
      ['a description under 3 characters', { description: 'ab' }],
      ['a non-string website', { website: 42 }],
    ])('refuses a body with %s', async (_label, overrides) => {
      const alice = user('alice');
      const body = validBody(overrides);

      const response = await postOrganization(alice, body);

      expect(response.status, response.text).toBe(400);
      expect(response.body).toEqual({ status: 400, message: expect.any(String) });
      if (typeof body.name === 'string') await expectNameFree(body.name);
      expect(await listOrganizations(alice)).toEqual([]);
    });

    it.each([
      ['too short', 'ab'],
      ['with a space', 'has space'],
      ['with a dot', 'has.dot'],
      ['with a slash-like character', 'a%2Fb'],
      ['with a non-ASCII letter', 'caf\u00e9-org'],
      ['of 201 characters', 'x'.repeat(201)],
      ['empty', ''],
    ])('refuses a name %s', async (_label, name) => {
      const alice = user('alice');

      const response = await postOrganization(alice, validBody({ name }));

      expect(response.status, response.text).toBe(400);
      expect(await listOrganizations(alice)).toEqual([]);
    });

    it.each([
      ['malformed JSON', '{"name": "x", ', 'application/json'],
      ['an empty body', '', 'application/json'],
      ['a JSON array', '[]', 'application/json'],
      ['a JSON string', '"org"', 'application/json'],
      ['a text/plain body', JSON.stringify(validBody()), 'text/plain'],
    ])('refuses %s', async (_label, rawBody, contentType) => {
      const alice = user('alice');

      const response = await stack.api.post(paths.organizations, {
        token: alice.token,
        rawBody,
        headers: { 'content-type': contentType },
      });

      expect(response.status, response.text).toBe(400);
      expect(await listOrganizations(alice)).toEqual([]);
    });
  });
});

describe('GET /v1/organizations/{name}', () => {
  it('returns the organization with creator, members and caller-relative flags', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice);

    const response = await getOrganization(org.name, alice);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      id: org.id,
      name: org.name,
      creator: { id: alice.sub, username: 'alice', email: alice.email },
      visibility: 'PRIVATE',
      organizationMembers: [{ userId: alice.sub, username: 'alice', email: alice.email, associationType: 'ADMIN' }],
      contactEmail: 'contact@example.com',
      canEdit: true,
      isMember: true,
      created_at: expect.stringMatching(ISO_DATE_TIME),
      updated_at: expect.stringMatching(ISO_DATE_TIME),
    });
  });

  it('shows a plain member as MEMBER, with canEdit false and isMember true', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const org = await createOrganization(stack, alice);
    await addMember(stack, alice, org.name, bob);

    const asBob = await getOrganization(org.name, bob);
    const asAlice = await getOrganization(org.name, alice);

    expect(asBob.status, asBob.text).toBe(200);
    expect(asBob.body).toMatchObject({ canEdit: false, isMember: true, creator: { id: alice.sub } });
    const expectedMembers = [
      { userId: alice.sub, username: 'alice', email: alice.email, associationType: 'ADMIN' },
      { userId: bob.sub, username: 'bob', email: bob.email, associationType: 'MEMBER' },
    ];
    expect(asBob.body.organizationMembers).toEqual(expect.arrayContaining(expectedMembers));
    expect(asBob.body.organizationMembers).toHaveLength(2);
    expect(asAlice.body).toMatchObject({ canEdit: true, isMember: true });
    expect(asAlice.body.organizationMembers).toEqual(expect.arrayContaining(expectedMembers));
  });

  it('hides a PRIVATE organization from non-members with the unknown-organization 404', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice, { visibility: 'PRIVATE' });
    const reference = await getOrganization(uniqueOrgName('missing'), alice);
    expect(reference.status).toBe(404);
    expect(reference.body).toEqual({ status: 404, message: expect.any(String) });
    const otherAdmin = user('other-admin');
    await createOrganization(stack, otherAdmin);
    const pendingInvitee = user('pending-invitee');
    await invite(stack, alice, org.name, [pendingInvitee.email]);

    for (const caller of [user('stranger'), otherAdmin, pendingInvitee]) {
      const response = await getOrganization(org.name, caller);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference.body);
    }
  });

  it('shows a PRIVATE organization to a realm admin who is not a member (canEdit true, isMember false)', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice, { visibility: 'PRIVATE' });
    const realmAdmin = user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] });

    const response = await getOrganization(org.name, realmAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ id: org.id, canEdit: true, isMember: false });
  });

  it('shows a PUBLIC organization to a stranger, with canEdit false and isMember false', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice, { visibility: 'PUBLIC' });

    const response = await getOrganization(org.name, user('stranger'));

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      id: org.id,
      name: org.name,
      visibility: 'PUBLIC',
      creator: { id: alice.sub },
      canEdit: false,
      isMember: false,
    });
  });

  it('answers unknown and impossible names with 404', async () => {
    const alice = user('alice');

    for (const name of [uniqueOrgName('missing'), 'ab', 'has.dot', 'x'.repeat(201)]) {
      const response = await getOrganization(name, alice);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ status: 404, message: expect.any(String) });
    }
  });
});

describe('GET /v1/user/organizations and GET /v1/organizations', () => {
  it('list exactly the organizations the caller created or belongs to, without members', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const carol = user('carol');
    const aliceFirst = await createOrganization(stack, alice, { visibility: 'PRIVATE' });
    const aliceSecond = await createOrganization(stack, alice, { visibility: 'PUBLIC' });
    const bobJoinedByAlice = await createOrganization(stack, bob);
    const bobOnly = await createOrganization(stack, bob, { visibility: 'PUBLIC' });
    await createOrganization(stack, carol);
    await addMember(stack, bob, bobJoinedByAlice.name, alice);
    // A pending (unanswered) invitation does not count.
    const pending = await createOrganization(stack, carol);
    await invite(stack, carol, pending.name, [alice.email]);

    const aliceList = await listOrganizations(alice);
    const bobList = await listOrganizations(bob);

    const byName = (list: any[]) => Object.fromEntries(list.map((org) => [org.name, org]));
    expect(aliceList.map((o) => o.name).sort()).toEqual([aliceFirst.name, aliceSecond.name, bobJoinedByAlice.name].sort());
    expect(byName(aliceList)[aliceFirst.name]).toMatchObject({ id: aliceFirst.id, canEdit: true, isMember: true });
    expect(byName(aliceList)[aliceSecond.name]).toMatchObject({ id: aliceSecond.id, canEdit: true, isMember: true });
    expect(byName(aliceList)[bobJoinedByAlice.name]).toMatchObject({
      id: bobJoinedByAlice.id,
      canEdit: false,
      isMember: true,
      creator: { id: bob.sub },
    });
    expect(bobList.map((o) => o.name).sort()).toEqual([bobJoinedByAlice.name, bobOnly.name].sort());
    for (const org of [...aliceList, ...bobList]) {
      expect(org).not.toHaveProperty('organizationMembers');
      expect(org).toMatchObject({ contactEmail: expect.any(String), created_at: expect.stringMatching(ISO_DATE_TIME) });
    }
  });

  it('list nothing for a caller without organizations, realm admins included', async () => {
    expect(await listOrganizations(user('newcomer'))).toEqual([]);
    expect(await listOrganizations(user('realm-admin', { realmRoles: ['admin'] }))).toEqual([]);
  });
});
