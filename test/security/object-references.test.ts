/**
 * Issue 5, "prove it under attack": authorization and object references.
 *
 * The per-endpoint files already check the single cases (list-invitations: member/stranger 401,
 * a cursor of A refused on B by an admin of both; get-invitation: other org's admin 404, B's name
 * with A's id 404, some lookalike emails; answer-invitation: admin/realm admin/stranger 404,
 * the generated client's whole-object body; resend-invitation: member/stranger/other admin 401,
 * B's id with A's invitation 404; organizations: read-only fields ignored on create). This file
 * attacks them together, the way an intruder would, and adds what those do not check:
 *
 * - every admin route for every kind of non-admin, with a full table Scan proving nothing was
 *   written (no invitation, no rate-limit window, no rename);
 * - the admin of another organization, by every path (A's path, B's name/id with A's ids, a
 *   leaked or forged cursor): never a byte of A's data in any body or header;
 * - answering someone else's invitation, for every kind of caller, including the invitee's own
 *   account with another email, and a co-admin: 404 and the table unchanged;
 * - mass assignment on create invitations, answer and create organization;
 * - lookalike addresses, including the Kelvin sign and "kate@example.co", with a positive control.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  createOrganization,
  invite,
  paths,
  type TestUser,
} from '../support/fixtures.ts';
import { partitionOf, scanTable } from '../support/scan.ts';
import { useTestStack, type ApiResponse } from '../support/stack.ts';
import { addAdminMember, storedInvitation, storedMembership } from '../support/table.ts';

const { stack, user } = useTestStack();

const EXPIRY_SECONDS = 7 * 24 * 3600; // the default INVITATION_EXPIRY_SECONDS

// ---------------------------------------------------------------------------------------------
// Two organizations with separate admins. A holds pending invitations whose ids and addresses are
// the secrets nobody outside A's admins may see; B is the attacker's own organization.

interface Org {
  id: number;
  name: string;
}

let adminA: TestUser;
let adminB: TestUser;
let coAdminA: TestUser;
let memberA: TestUser;
let orgA: Org;
let orgB: Org;
let inviteeA: TestUser;
/** A's pending invitations (the first is inviteeA's). */
let invitationsA: Array<{ id: string; userEmail: string; createdAt: string }>;
let invitationsB: Array<{ id: string; userEmail: string }>;

beforeAll(async () => {
  adminA = user('admin-a');
  adminB = user('admin-b');
  orgA = await createOrganization(stack, adminA);
  orgB = await createOrganization(stack, adminB);
  coAdminA = user('co-admin-a');
  await addAdminMember(stack, orgA.id, coAdminA, 'co-admin-a');
  memberA = await addMember(stack, adminA, orgA.name, user('member-a'));
  inviteeA = user('invitee-a', { email: `secret-invitee-${randomUUID().slice(0, 8)}@a-corp.example` });
  const secretAddresses = [inviteeA.email, ...[1, 2, 3].map((n) => `secret-${n}-${randomUUID().slice(0, 8)}@a-corp.example`)];
  invitationsA = [];
  for (const address of secretAddresses) invitationsA.push(...(await invite(stack, adminA, orgA.name, [address])).invitations);
  invitationsB = [];
  for (const n of [1, 2, 3]) {
    invitationsB.push(...(await invite(stack, adminB, orgB.name, [`b-${n}-${randomUUID().slice(0, 8)}@example.com`])).invitations);
  }
});

// ---------------------------------------------------------------------------------------------
// Helpers

const partialUpdate = (orgId: number | string, caller: TestUser, body: unknown) =>
  stack.api.request('PATCH', `/v1/organizations/${orgId}/partial`, { token: caller.token, body });

const list = (orgName: string, caller: TestUser, query = '') =>
  stack.api.get(`${paths.invitations(orgName)}${query}`, { token: caller.token });

const getInvitation = (orgName: string, invitationId: string, caller: TestUser) =>
  stack.api.get(paths.invitation(orgName, invitationId), { token: caller.token });

const answer = (orgName: string, invitationId: string, caller: TestUser, body: unknown) =>
  stack.api.put(paths.invitation(orgName, invitationId), { token: caller.token, body });

const resend = (orgId: number | string, invitationId: string, caller: TestUser) =>
  stack.api.post(paths.resend(orgId, invitationId), { token: caller.token });

/** Nothing of A's invitations (ids, addresses) in the body, any header, or a decoded cursor. */
function expectNothingOfA(response: ApiResponse, label: string) {
  const cursor = response.headers.get('x-next-cursor');
  const haystack = [
    response.text,
    ...[...response.headers.entries()].map(([name, value]) => `${name}: ${value}`),
    cursor === null ? '' : Buffer.from(cursor, 'base64url').toString('utf8'),
  ]
    .join('\n')
    .toLowerCase();
  for (const invitation of invitationsA) {
    expect(haystack, `${label} leaks A's invitation id`).not.toContain(invitation.id.toLowerCase());
    expect(haystack, `${label} leaks A's invitee address`).not.toContain(invitation.userEmail.toLowerCase());
  }
}

/** The 404 of an unknown invitation in an existing organization: what every non-reader must get. */
async function unknownInvitation404(orgName: string) {
  const response = await getInvitation(orgName, randomUUID(), adminA);
  expect(response.status).toBe(404);
  return response.body;
}

// ---------------------------------------------------------------------------------------------

describe('admin routes refuse every non-admin and write nothing', () => {
  it.each([
    ['a plain member', () => memberA],
    ['a stranger', () => user('stranger')],
    ['a pending invitee (not yet a member)', () => inviteeA],
    ["the admin of another organization", () => adminB],
    ['a user whose token claims the creator\'s email and username, but not the sub', () =>
      user('impostor', { email: adminA.email, username: 'admin-a' })],
  ])('%s: list, create, resend and partial update are 401 to a member, else the 404 of an unknown organization (A is PRIVATE)', async (_label, caller) => {
    const intruder = caller();
    const before = await scanTable(stack);
    const isMember = intruder === memberA;
    // A member sees the organization, so is told 401; to anyone else it does not exist: the same
    // status and body as for an organization that really does not exist.
    const unknownOrganization = (await list(`no-such-org-${randomUUID().slice(0, 8)}`, intruder)).body;
    expect(unknownOrganization).toEqual({ status: 404, message: 'Organization not found.' });

    const attempts: Array<[string, ApiResponse]> = [
      ['list', await list(orgA.name, intruder)],
      ['list with a filter and page', await list(orgA.name, intruder, '?status=PENDING&limit=1')],
      ['create', await stack.api.post(paths.invitations(orgA.name), { token: intruder.token, body: { emails: [`x-${randomUUID().slice(0, 8)}@example.com`] } })],
      ['resend', await resend(orgA.id, invitationsA[1]!.id, intruder)],
      [
        'partial update',
        await partialUpdate(orgA.id, intruder, { name: `${orgA.name}-x`, contactEmail: 'owned@example.com', visibility: 'PUBLIC', description: 'owned' }),
      ],
    ];

    for (const [route, response] of attempts) {
      if (isMember) expect(response.status, `${route}: ${response.text}`).toBe(401);
      else expect(response.body, `${route}: ${response.status}`).toEqual(unknownOrganization);
      expectNothingOfA(response, route);
    }
    expect(await scanTable(stack)).toEqual(before);
    // The organization kept its name, contact and visibility.
    const read = await stack.api.get(paths.organization(orgA.name), { token: adminA.token });
    expect(read.body).toMatchObject({ id: orgA.id, name: orgA.name, visibility: 'PRIVATE' });
    expect(read.body.contactEmail).not.toBe('owned@example.com');
  });
});

describe("the admin of organization B cannot reach A's invitations by any path", () => {
  it("via A's own paths (A is PRIVATE): list 404, get 404, answer 404, resend 404; nothing of A leaks, nothing written", async () => {
    const before = await scanTable(stack);
    const target = invitationsA[1]!;

    const attempts: Array<[string, ApiResponse, number[]]> = [
      ['list A', await list(orgA.name, adminB), [404]],
      ['list A, every status', await list(orgA.name, adminB, '?status=EXPIRED'), [404]],
      ['get A/inv', await getInvitation(orgA.name, target.id, adminB), [404]],
      ['answer A/inv', await answer(orgA.name, target.id, adminB, { status: 'ACCEPTED' }), [404]],
      ['resend A.id/inv', await resend(orgA.id, target.id, adminB), [404]],
    ];

    for (const [route, response, allowed] of attempts) {
      expect(allowed, `${route}: ${response.status} ${response.text}`).toContain(response.status);
      expectNothingOfA(response, route);
    }
    expect(await scanTable(stack)).toEqual(before);
  });

  it("via B's name or id with A's invitation ids: 404 each, nothing of A leaks, nothing written", async () => {
    const before = await scanTable(stack);
    const reference = await unknownInvitation404(orgB.name);

    for (const target of invitationsA) {
      for (const [route, response] of [
        ['get B/A-inv', await getInvitation(orgB.name, target.id, adminB)],
        ['get B/A-inv, upper case', await getInvitation(orgB.name, target.id.toUpperCase(), adminB)],
        ['answer B/A-inv', await answer(orgB.name, target.id, adminB, { status: 'ACCEPTED' })],
        ['resend B.id/A-inv', await resend(orgB.id, target.id, adminB)],
      ] as const) {
        expect(response.status, `${route}: ${response.text}`).toBe(404);
        if (route.startsWith('get')) expect(response.body).toEqual(reference);
        expectNothingOfA(response, route);
      }
    }
    expect(await scanTable(stack)).toEqual(before);
    expect(partitionOf(await scanTable(stack), orgB.id).filter((item) => invitationsA.some((i) => item.SK === `INV#${i.id}`))).toEqual([]);
  });

  it("with a cursor leaked from A's list: 400 on B's list, 404 on A's (PRIVATE), never A's data", async () => {
    const page = await list(orgA.name, adminA, '?limit=1');
    expect(page.status).toBe(200);
    const leakedCursor = page.headers.get('x-next-cursor')!;
    expect(leakedCursor).toBeTruthy();

    const onB = await list(orgB.name, adminB, `?limit=2&cursor=${encodeURIComponent(leakedCursor)}`);
    expect(onB.status, onB.text).toBe(400);
    expectNothingOfA(onB, "A's cursor on B");

    const onA = await list(orgA.name, adminB, `?limit=2&cursor=${encodeURIComponent(leakedCursor)}`);
    expect(onA.status, onA.text).toBe(404);
    expectNothingOfA(onA, "A's cursor on A by B's admin");
  });

  it("with cursors forged to point into A (A's id, or B's id with A's positions): 400 or only B's own invitations", async () => {
    const target = invitationsA[0]!;
    const position = { s: `INV#${target.id}`, l: `INV#${target.createdAt}#${target.id}` };
    const forge = (value: unknown) => encodeURIComponent(Buffer.from(JSON.stringify(value)).toString('base64url'));
    const forged: Array<[string, string]> = [
      ["A's org id and A's position", forge({ o: orgA.id, ...position })],
      ["A's org id as a string", forge({ o: String(orgA.id), ...position })],
      ["B's org id and A's position", forge({ o: orgB.id, ...position })],
      ["B's org id and an A-partition key", forge({ o: orgB.id, s: `INV#${target.id}`, l: `INV#${target.createdAt}#${target.id}`, PK: `ORG#${orgA.id}` })],
      ['a position before everything', forge({ o: orgB.id, s: 'INV#', l: 'INV#~' })],
    ];
    const bIds = new Set(invitationsB.map((i) => i.id));

    for (const [label, cursor] of forged) {
      const response = await list(orgB.name, adminB, `?limit=10&cursor=${cursor}`);
      expect([200, 400], `${label}: ${response.status} ${response.text}`).toContain(response.status);
      if (response.status === 200) {
        for (const invitation of response.body as Array<{ id: string }>) expect(bIds.has(invitation.id), label).toBe(true);
      }
      expectNothingOfA(response, label);
    }
  });
});

describe("nobody answers someone else's invitation", () => {
  it('a stranger, the invitee account with another email, a plain member, the creator, a co-admin, a realm admin, another org\'s admin: 404, table unchanged', async () => {
    const target = invitationsA[0]!; // inviteeA's
    const reference = (await answer(orgA.name, randomUUID(), adminA, { status: 'ACCEPTED' })).body;
    const callers: Array<[string, TestUser]> = [
      ['a stranger', user('stranger')],
      ["the invitee's own account (same sub) with another email", user('same-sub', { sub: inviteeA.sub, email: `other-${randomUUID().slice(0, 8)}@example.com` })],
      ['another user with another email', user('other')],
      ['a plain member', memberA],
      ['the creator', adminA],
      ['a co-admin (ADMIN member)', coAdminA],
      ['a realm admin', user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] })],
      ["another organization's admin", adminB],
    ];
    const before = await scanTable(stack);

    for (const [label, caller] of callers) {
      for (const status of ['ACCEPTED', 'REJECTED']) {
        const response = await answer(orgA.name, target.id, caller, { status, userEmail: inviteeA.email, userId: caller.sub });
        expect(response.status, `${label}, ${status}: ${response.text}`).toBe(404);
        expect(response.body, label).toEqual(reference);
      }
    }
    expect(await scanTable(stack)).toEqual(before);
    expect(await storedInvitation(stack, orgA.id, target.id)).toMatchObject({ status: 'PENDING' });
    expect((await storedInvitation(stack, orgA.id, target.id))?.userId).toBeUndefined();
  });

  it('the invitee account with another email cannot read it either (404, same body as an unknown id)', async () => {
    const target = invitationsA[0]!;
    const reference = await unknownInvitation404(orgA.name);
    const sameSubOtherEmail = user('same-sub', { sub: inviteeA.sub, email: `other-${randomUUID().slice(0, 8)}@example.com` });

    const response = await getInvitation(orgA.name, target.id, sameSubOtherEmail);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });
});

describe('mass assignment: fields the caller must not set are ignored or refused, never honoured', () => {
  it('create invitations: status, id, org, expirationDate, invitedBy, userId, role in the body', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const invitee = user('invitee');
    const chosenId = randomUUID();
    const body = {
      emails: [invitee.email],
      status: 'ACCEPTED',
      id: chosenId,
      orgId: orgB.id,
      orgName: orgB.name,
      organizationId: orgB.id,
      expirationDate: '2099-12-31T23:59:59Z',
      expiresAt: 4102444799,
      createdAt: '2000-01-01T00:00:00Z',
      invitedBy: adminB.sub,
      userId: invitee.sub,
      // associationType is a create option now (an org admin's choice: invitation-options.test.ts);
      // `role` is not, and must not grant anything.
      role: 'ADMIN',
      emailStatus: 'SENT',
      sendCount: 7,
    };
    const bPartitionBefore = partitionOf(await scanTable(stack), orgB.id);
    const startedSeconds = Math.floor(Date.now() / 1000);

    const response = await stack.api.post(paths.invitations(org.name), { token: admin.token, body });

    expect([201, 400], response.text).toContain(response.status);
    const after = await scanTable(stack);
    expect(partitionOf(after, orgB.id)).toEqual(bPartitionBefore);
    expect(after.filter((item) => String(item.SK).includes(chosenId) || item.id === chosenId)).toEqual([]);
    if (response.status === 400) return; // refused outright: fine, nothing written (checked above)

    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations).toHaveLength(1);
    const created = response.body.invitations[0];
    expect(created).toMatchObject({ userEmail: invitee.email, status: 'PENDING', invitedBy: admin.sub, emailStatus: 'PENDING', sendCount: 0 });
    expect(created.id).not.toBe(chosenId);
    expect(created.userId).toBeUndefined();
    expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual((startedSeconds - 5) * 1000);
    const expiresAtSeconds = Date.parse(created.expirationDate) / 1000;
    expect(expiresAtSeconds).toBeGreaterThanOrEqual(startedSeconds + EXPIRY_SECONDS - 5);
    expect(expiresAtSeconds).toBeLessThanOrEqual(startedSeconds + EXPIRY_SECONDS + 5);
    const stored = await storedInvitation(stack, org.id, created.id);
    expect(stored).toMatchObject({ orgId: org.id, orgName: org.name, status: 'PENDING', invitedBy: admin.sub, deliverySeq: 1, sendCount: 0 });
    expect(stored?.userId).toBeUndefined();

    // Accepting it makes a MEMBER of this organization only, whatever the create body said.
    const accepted = await answer(org.name, created.id, invitee, { status: 'ACCEPTED' });
    expect(accepted.status, accepted.text).toBe(200);
    expect(await storedMembership(stack, org.id, invitee.sub)).toMatchObject({ associationType: 'MEMBER' });
    expect(await storedMembership(stack, orgB.id, invitee.sub)).toBeUndefined();
    expect((await list(org.name, invitee)).status).toBe(401);
  });

  it('answer: associationType, role, orgId and userId in the PUT body are ignored; the invitee becomes a plain MEMBER of this org', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const invitee = user('invitee');
    const { invitations } = await invite(stack, admin, org.name, [invitee.email]);
    const bPartitionBefore = partitionOf(await scanTable(stack), orgB.id);

    const response = await answer(org.name, invitations[0].id, invitee, {
      status: 'ACCEPTED',
      associationType: 'ADMIN',
      role: 'ADMIN',
      orgId: orgB.id,
      orgName: orgB.name,
      userId: adminA.sub,
      organizationMembers: [{ userId: invitee.sub, associationType: 'ADMIN' }],
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body.userId).toBe(invitee.sub);
    expect(await storedMembership(stack, org.id, invitee.sub)).toMatchObject({ associationType: 'MEMBER' });
    expect(await storedMembership(stack, org.id, adminA.sub)).toBeUndefined();
    expect(partitionOf(await scanTable(stack), orgB.id)).toEqual(bPartitionBefore);
    // A MEMBER, not an admin: the admin routes stay closed.
    expect((await list(org.name, invitee)).status).toBe(401);
    const read = await stack.api.get(paths.organization(org.name), { token: invitee.token });
    expect(read.body.canEdit).toBe(false);
  });

  it('create organization: creator, organizationMembers and canEdit are ignored; the caller is the creator and the only member', async () => {
    const caller = user('founder');
    const mallory = user('mallory');
    const victim = user('victim');
    const name = `org-${randomUUID().slice(0, 8)}`;
    const before = await scanTable(stack);

    const response = await stack.api.post(paths.organizations, {
      token: caller.token,
      body: {
        name,
        contactEmail: 'contact@example.com',
        visibility: 'PRIVATE',
        creator: { id: mallory.sub, username: 'mallory', email: mallory.email },
        organizationMembers: [
          { userId: mallory.sub, username: 'mallory', email: mallory.email, associationType: 'ADMIN' },
          { userId: victim.sub, associationType: 'MEMBER' },
        ],
        canEdit: true,
        isMember: true,
      },
    });

    expect(response.status, response.text).toBe(201);
    expect(response.body.creator.id).toBe(caller.sub);
    const orgId = response.body.id as number;
    // Exactly the new organization's items: its name, itself, the caller's ADMIN membership (plus the id counter).
    const after = await scanTable(stack);
    const beforeKeys = new Set(before.map((item) => `${item.PK}|${item.SK}`));
    const added = after.filter((item) => !beforeKeys.has(`${item.PK}|${item.SK}`));
    // ... and the caller's rate-limit window (created once, the first time the caller creates).
    const addedKeys = added.map((item) => `${item.PK}|${item.SK}`);
    expect(addedKeys.filter((key) => !key.startsWith(`RATE#createOrganization#${caller.sub}|`)).sort()).toEqual(
      [`ORG#${orgId}|ORG`, `ORG#${orgId}|ORG#MEMBER#${caller.sub}`, `ORGNAME#${name}|ORGNAME`].sort(),
    );
    expect(addedKeys.filter((key) => key.startsWith('RATE#'))).toHaveLength(1);
    expect(await storedMembership(stack, orgId, caller.sub)).toMatchObject({ associationType: 'ADMIN' });
    for (const outsider of [mallory, victim]) {
      expect((await stack.api.get('/v1/user/organizations', { token: outsider.token })).body).toEqual([]);
      expect((await stack.api.get(paths.organization(name), { token: outsider.token })).status).toBe(404);
      expect((await list(name, outsider)).status).toBe(404);
    }
  });
});

describe('lookalike addresses never match the invitee', () => {
  const invited = 'kate@example.com';
  let admin: TestUser;
  let org: Org;
  let invitationId: string;

  beforeAll(async () => {
    admin = user('admin');
    org = await createOrganization(stack, admin);
    invitationId = (await invite(stack, admin, org.name, [invited])).invitations[0].id;
  });

  it.each([
    ['a Cyrillic "а" in the local part', 'k\u0430te@example.com'],
    ['the Kelvin sign for "K"', '\u212Aate@example.com'],
    ['a fullwidth "ｋ"', '\uFF4Bate@example.com'],
    ['a Cyrillic "е" in the domain', 'kate@\u0435xample.com'],
    ['a zero-width space', 'ka\u200Bte@example.com'],
    ['a trailing dot', 'kate@example.com.'],
    ['a trailing space', 'kate@example.com '],
    ['a leading space', ' kate@example.com'],
    ['a trailing newline', 'kate@example.com\n'],
    ['a trailing NUL', 'kate@example.com\u0000'],
    ['a shorter domain', 'kate@example.co'],
    ['a longer domain', 'kate@example.com.evil.example'],
    ['a subaddress', 'kate+x@example.com'],
    ['a quoted local part', '"kate"@example.com'],
  ])('%s (%j): GET and PUT are 404, the invitation unchanged', async (_label, email) => {
    const impostor = user('kate', { email });
    const reference = (await getInvitation(org.name, randomUUID(), admin)).body;
    const before = await storedInvitation(stack, org.id, invitationId);

    const read = await getInvitation(org.name, invitationId, impostor);
    expect(read.status, read.text).toBe(404);
    expect(read.body).toEqual(reference);
    for (const status of ['ACCEPTED', 'REJECTED']) {
      const response = await answer(org.name, invitationId, impostor, { status });
      expect(response.status, response.text).toBe(404);
    }

    expect(await storedInvitation(stack, org.id, invitationId)).toEqual(before);
    expect(await storedMembership(stack, org.id, impostor.sub)).toBeUndefined();
  });

  it('control: the real address, in another case, does match (so the 404s above are about the address)', async () => {
    const kate = user('kate', { email: 'Kate@EXAMPLE.com' });

    const read = await getInvitation(org.name, invitationId, kate);

    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({ id: invitationId, userEmail: invited, status: 'PENDING' });
  });
});
