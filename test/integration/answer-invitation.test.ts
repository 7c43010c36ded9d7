/**
 * PUT /v1/organizations/{name}/invitations/{uuid}: the invitee accepts or rejects. Only `status`
 * is read from the body; accepting makes the invitee a MEMBER; answered and expired invitations
 * cannot be answered again; anyone but the invitee gets 404.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOrganization, invite, orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack, type RequestOptions } from '../support/stack.ts';
import { expireInvitation, storedGuard, storedInvitation, storedMembership } from '../support/table.ts';

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

function answer(orgName: string, invitationId: string, caller: Pick<TestUser, 'token'>, body: unknown) {
  return stack.api.put(paths.invitation(orgName, invitationId), { token: caller.token, body });
}

function answerRaw(orgName: string, invitationId: string, caller: Pick<TestUser, 'token'>, options: RequestOptions) {
  return stack.api.put(paths.invitation(orgName, invitationId), { token: caller.token, ...options });
}

async function getOrganization(name: string, caller: TestUser) {
  return stack.api.get(paths.organization(name), { token: caller.token });
}

const ALREADY = (status: string) => new RegExp(`^This invitation has already status ${status}\\.?$`);

// ---------------------------------------------------------------------------------------------

describe('PUT invitation: accepting', () => {
  it('answers 200 with the accepted invitation, stamped with the caller and the time', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const before = Date.now();

    const response = await answer(org.name, invitation.id, invitee, { status: 'ACCEPTED' });

    expect(response.status, response.text).toBe(200);
    const { userId, respondedAt, status, ...unchanged } = response.body;
    expect(status).toBe('ACCEPTED');
    expect(userId).toBe(invitee.sub);
    expect(Date.parse(respondedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(respondedAt)).toBeLessThanOrEqual(Date.now() + 1000);
    // The admin's view carries the link; the invitee's answer does not.
    const { status: _s, link: _l, ...originalUnchanged } = invitation;
    expect(unchanged).toEqual(originalUnchanged);
  });

  it('stores the answer, frees the pending guard and keeps the invitation (TTL: a year after the answer)', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect(await storedGuard(stack, org.id, invitee.email)).toBeDefined();

    const response = await answer(org.name, invitation.id, invitee, { status: 'ACCEPTED' });

    expect(response.status, response.text).toBe(200);
    const item = await storedInvitation(stack, org.id, invitation.id);
    expect(item).toMatchObject({ status: 'ACCEPTED', userId: invitee.sub, respondedAt: response.body.respondedAt });
    expect(item?.ttl).toBe(Math.floor(Date.parse(response.body.respondedAt) / 1000) + 31_536_000);
    expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
    // Reading it back shows the same.
    const read = await stack.api.get(paths.invitation(org.name, invitation.id), { token: invitee.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(response.body);
  });

  it('makes the invitee a MEMBER, visible in the organization and in their organization lists', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect((await getOrganization(org.name, invitee)).status).toBe(404); // PRIVATE, not yet a member

    const response = await answer(org.name, invitation.id, invitee, { status: 'ACCEPTED' });
    expect(response.status, response.text).toBe(200);

    expect(await storedMembership(stack, org.id, invitee.sub)).toMatchObject({ userId: invitee.sub, associationType: 'MEMBER' });

    const asInvitee = await getOrganization(org.name, invitee);
    expect(asInvitee.status, asInvitee.text).toBe(200);
    expect(asInvitee.body).toMatchObject({ isMember: true, canEdit: false });
    expect(asInvitee.body.organizationMembers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: invitee.sub, email: invitee.email, associationType: 'MEMBER' }),
        expect.objectContaining({ userId: admin.sub, associationType: 'ADMIN' }),
      ]),
    );
    expect(asInvitee.body.organizationMembers).toHaveLength(2);

    for (const path of ['/v1/user/organizations', '/v1/organizations']) {
      const list = await stack.api.get(path, { token: invitee.token });
      expect(list.status, list.text).toBe(200);
      expect(list.body).toEqual([expect.objectContaining({ id: org.id, name: org.name, isMember: true, canEdit: false })]);
    }
  });

  it('accepts a token email that differs only in case', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const shouting = user('shouting', { sub: invitee.sub, email: invitee.email.toUpperCase() });

    const response = await answer(org.name, invitation.id, shouting, { status: 'ACCEPTED' });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ status: 'ACCEPTED', userId: invitee.sub, userEmail: invitee.email });
  });

  it('skips the address as ALREADY_MEMBER when it is invited again after accepting', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect((await answer(org.name, invitation.id, invitee, { status: 'ACCEPTED' })).status).toBe(200);

    const again = await invite(stack, admin, org.name, [invitee.email]);

    expect(again).toEqual({ invitations: [], skipped: [{ email: invitee.email, reason: 'ALREADY_MEMBER' }] });
  });

  it('never downgrades an existing ADMIN membership to MEMBER', async () => {
    // The creator's email changed at the identity provider after creating the organization, so an
    // invitation to the new address is not skipped; the creator then accepts it.
    const creator = user('creator');
    const org = await createOrganization(stack, creator);
    const newEmail = `renamed-${randomUUID().slice(0, 8)}@example.com`;
    const { invitations } = await invite(stack, creator, org.name, [newEmail]);
    expect(invitations).toHaveLength(1);
    const creatorWithNewEmail = user('creator', { sub: creator.sub, email: newEmail });

    const response = await answer(org.name, invitations[0].id, creatorWithNewEmail, { status: 'ACCEPTED' });

    expect(response.status, response.text).toBe(200);
    expect(await storedMembership(stack, org.id, creator.sub)).toMatchObject({ associationType: 'ADMIN' });
    const organization = await getOrganization(org.name, creatorWithNewEmail);
    expect(organization.status).toBe(200);
    expect(organization.body.organizationMembers).toEqual([
      expect.objectContaining({ userId: creator.sub, associationType: 'ADMIN' }),
    ]);
    expect(organization.body.canEdit).toBe(true);
  });
});

describe('PUT invitation: only status is read from the body', () => {
  it('ignores every other field of a whole OrganizationInvitation (as the generated Python client sends it)', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const pythonClientBody = {
      id: randomUUID(),
      userEmail: 'attacker@evil.example.com',
      userId: 'someone-else',
      status: 'ACCEPTED',
      expirationDate: '2030-01-01T00:00:00+02:00',
      createdAt: '2001-01-01T00:00:00Z',
      invitedBy: 'nobody',
      emailStatus: 'SENT',
      sendCount: 99,
      lastSentAt: '2001-01-01T00:00:00-05:00',
      lastError: 'made up',
      respondedAt: '2001-01-01T00:00:00Z',
    };

    const response = await answer(org.name, invitation.id, invitee, pythonClientBody);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      id: invitation.id,
      userEmail: invitation.userEmail,
      userId: invitee.sub,
      status: 'ACCEPTED',
      expirationDate: invitation.expirationDate,
      createdAt: invitation.createdAt,
      invitedBy: invitation.invitedBy,
      emailStatus: invitation.emailStatus,
      sendCount: invitation.sendCount,
    });
    expect(invitation).toMatchObject({ emailStatus: 'PENDING', sendCount: 0 });
    expect(response.body).not.toHaveProperty('lastSentAt');
    expect(response.body).not.toHaveProperty('lastError');
    expect(response.body.respondedAt).not.toBe(pythonClientBody.respondedAt);

    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored).toMatchObject({
      id: invitation.id,
      userEmail: invitation.userEmail,
      userId: invitee.sub,
      invitedBy: invitation.invitedBy,
      deliverySeq: 1,
      deliveredSeq: 0,
      emailStatus: 'PENDING',
      sendCount: 0,
    });
    expect(stored).not.toHaveProperty('lastSentAt');
    expect(stored).not.toHaveProperty('lastError');
    expect(new Date((stored!.expiresAt as number) * 1000).toISOString()).toBe(invitation.expirationDate);
    // No invitation was created under the id the client sent.
    expect(await storedInvitation(stack, org.id, pythonClientBody.id)).toBeUndefined();
  });

  it('rejects with a whole object too, with any ISO-8601 offset in expirationDate', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await answer(org.name, invitation.id, invitee, {
      ...invitation,
      status: 'REJECTED',
      expirationDate: '2030-01-01T00:00:00-07:30',
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ status: 'REJECTED', expirationDate: invitation.expirationDate });
  });
});

describe('PUT invitation: rejecting', () => {
  it('answers 200 with the rejected invitation and adds no membership', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await answer(org.name, invitation.id, invitee, { status: 'REJECTED' });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ id: invitation.id, status: 'REJECTED', userId: invitee.sub });
    expect(Date.parse(response.body.respondedAt)).not.toBeNaN();
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'REJECTED', userId: invitee.sub });
    expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
    expect((await getOrganization(org.name, invitee)).status).toBe(404);
    const list = await stack.api.get('/v1/user/organizations', { token: invitee.token });
    expect(list.body).toEqual([]);
  });

  it('lets an admin invite the same address again afterwards (201, not skipped)', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect((await answer(org.name, invitation.id, invitee, { status: 'REJECTED' })).status).toBe(200);

    const again = await invite(stack, admin, org.name, [invitee.email]);

    expect(again.skipped).toEqual([]);
    expect(again.invitations).toHaveLength(1);
    expect(again.invitations[0]).toMatchObject({ userEmail: invitee.email, status: 'PENDING', emailStatus: 'PENDING', sendCount: 0 });
    expect(again.invitations[0].id).not.toBe(invitation.id);
    // The old answer is kept as history.
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'REJECTED' });
  });
});

describe('PUT invitation: PENDING is a no-op', () => {
  it('answers 200 with the invitation unchanged and changes nothing stored', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const itemBefore = await storedInvitation(stack, org.id, invitation.id);
    const guardBefore = await storedGuard(stack, org.id, invitee.email);

    const response = await answer(org.name, invitation.id, invitee, { status: 'PENDING' });

    expect(response.status, response.text).toBe(200);
    // The admin's view (create) carries the link; the invitee's does not.
    const { link: _link, ...inviteeView } = invitation;
    expect(response.body).toEqual(inviteeView);
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(itemBefore);
    expect(await storedGuard(stack, org.id, invitee.email)).toEqual(guardBefore);
    expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
    // Still pending: the address stays blocked for a second invitation.
    expect((await invite(stack, admin, org.name, [invitee.email])).skipped).toEqual([
      { email: invitee.email, reason: 'ALREADY_INVITED' },
    ]);
  });
});

describe('PUT invitation: answered or expired invitations', () => {
  it.each([
    ['ACCEPTED', 'ACCEPTED'],
    ['ACCEPTED', 'REJECTED'],
    ['ACCEPTED', 'PENDING'],
    ['REJECTED', 'REJECTED'],
    ['REJECTED', 'ACCEPTED'],
    ['REJECTED', 'PENDING'],
  ] as const)('answers %s then %s with 400 "already status" and keeps the first answer', async (first, second) => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const firstAnswer = await answer(org.name, invitation.id, invitee, { status: first });
    expect(firstAnswer.status, firstAnswer.text).toBe(200);
    const itemAfterFirst = await storedInvitation(stack, org.id, invitation.id);

    const response = await answer(org.name, invitation.id, invitee, { status: second });

    expect(response.status).toBe(400);
    expect(response.body.status).toBe(400);
    expect(response.body.message).toMatch(ALREADY(first));
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(itemAfterFirst);
    if (first === 'REJECTED') expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
  });

  it('answers an expired invitation with 400 saying it expired and that an admin can send a new one', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);

    for (const status of ['ACCEPTED', 'REJECTED', 'PENDING']) {
      const response = await answer(org.name, invitation.id, invitee, { status });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/expired/i);
      expect(response.body.message).toMatch(/admin/i);
      expect(response.body.message).toMatch(/new/i);
    }
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
    expect((await storedInvitation(stack, org.id, invitation.id))?.userId).toBeUndefined();
    expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
  });

  it('lets exactly one of two concurrent answers win', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const responses = await Promise.all([
      answer(org.name, invitation.id, invitee, { status: 'ACCEPTED' }),
      answer(org.name, invitation.id, invitee, { status: 'REJECTED' }),
    ]);

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400]);
    const winner = responses.find((r) => r.status === 200)!;
    const loser = responses.find((r) => r.status === 400)!;
    expect(loser.body.message).toMatch(ALREADY(winner.body.status));
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: winner.body.status });
    const membership = await storedMembership(stack, org.id, invitee.sub);
    if (winner.body.status === 'ACCEPTED') expect(membership).toMatchObject({ associationType: 'MEMBER' });
    else expect(membership).toBeUndefined();
  });
});

describe('PUT invitation: who may answer', () => {
  it('answers the invitee with an unverified email with 400 and code 1001, changing nothing', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const unverified = user('unverified', { sub: invitee.sub, email: invitee.email, emailVerified: false });

    const response = await answer(org.name, invitation.id, unverified, { status: 'ACCEPTED' });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, code: 1001, message: expect.any(String) });
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
    expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
  });

  it('answers everyone but the invitee with the unknown-invitation 404, org admins included', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const reference = await answer(org.name, randomUUID(), admin, { status: 'ACCEPTED' });
    expect(reference.status).toBe(404);
    expect(reference.body).toEqual({ status: 404, message: expect.any(String) });
    const realmAdmin = user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] });
    const stranger = user('stranger');

    for (const caller of [admin, realmAdmin, stranger]) {
      for (const status of ['ACCEPTED', 'REJECTED']) {
        const response = await answer(org.name, invitation.id, caller, { status });
        expect(response.status).toBe(404);
        expect(response.body).toEqual(reference.body);
      }
    }
    const item = await storedInvitation(stack, org.id, invitation.id);
    expect(item).toMatchObject({ status: 'PENDING' });
    expect(item?.userId).toBeUndefined();
    for (const caller of [realmAdmin, stranger]) expect(await storedMembership(stack, org.id, caller.sub)).toBeUndefined();
  });

  it('answers lookalike token emails with 404', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    for (const email of [invitee.email.replace('example', 'ex\u0430mple'), `${invitee.email}.`, `${invitee.email} `]) {
      const response = await answer(org.name, invitation.id, user('impostor', { email }), { status: 'ACCEPTED' });
      expect(response.status).toBe(404);
    }
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });

  it('answers an unknown organization, and the wrong organization, with 404', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const otherOrg = await createOrganization(stack, admin);
    const reference = await answer(org.name, randomUUID(), invitee, { status: 'ACCEPTED' });
    expect(reference.status).toBe(404);

    for (const orgName of [uniqueOrgName('missing'), otherOrg.name]) {
      const response = await answer(orgName, invitation.id, invitee, { status: 'ACCEPTED' });
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference.body);
    }
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
    expect(await storedMembership(stack, otherOrg.id, invitee.sub)).toBeUndefined();
  });

  it('answers an organization name no organization can have (too short, with a dot) with the same 404', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const reference = await answer(org.name, randomUUID(), invitee, { status: 'ACCEPTED' });
    expect(reference.status).toBe(404);

    for (const impossibleName of ['ab', 'a.b']) {
      const response = await answer(impossibleName, invitation.id, invitee, { status: 'ACCEPTED' });
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference.body);
    }
  });
});

describe('PUT invitation: malformed requests', () => {
  it.each([
    ['an unknown status', { status: 'MAYBE' }],
    ['EXPIRED (a list filter, not a status)', { status: 'EXPIRED' }],
    ['a lower-case status', { status: 'accepted' }],
    ['a numeric status', { status: 1 }],
    ['a null status', { status: null }],
    ['a missing status', { userEmail: 'x@example.com' }],
    ['an empty object', {}],
    ['an array', [{ status: 'ACCEPTED' }]],
    ['a JSON string', 'ACCEPTED'],
    ['JSON null', null],
    ['a JSON number', 42],
  ])('answers %s with 400 and changes nothing', async (_label, body) => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await answerRaw(org.name, invitation.id, invitee, {
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, message: expect.any(String) });
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });

  it.each([
    ['text/plain', '{"status":"ACCEPTED"}'],
    ['application/x-www-form-urlencoded', 'status=ACCEPTED'],
    ['application/xml', '<invitation><status>ACCEPTED</status></invitation>'],
  ])('answers a %s body with 400 and changes nothing', async (contentType, rawBody) => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await answerRaw(org.name, invitation.id, invitee, { rawBody, headers: { 'content-type': contentType } });

    expect(response.status).toBe(400);
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });

  it.each([
    ['malformed JSON', '{"status": "ACCEPTED"'],
    ['trailing garbage', '{"status":"ACCEPTED"} x'],
    ['an empty body', ''],
  ])('answers %s with 400 and changes nothing', async (_label, rawBody) => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await answerRaw(org.name, invitation.id, invitee, {
      rawBody,
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(400);
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });

  it('answers a malformed uuid with 400', async () => {
    const { org, invitee } = await orgWithInvitation(stack, user);

    for (const badId of ['not-a-uuid', '1234', `${randomUUID()}-0`]) {
      const response = await answer(org.name, badId, invitee, { status: 'ACCEPTED' });
      expect(response.status).toBe(400);
    }
  });
});
