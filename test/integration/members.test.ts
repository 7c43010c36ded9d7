/**
 * Organization members: DELETE /v1/organizations/{orgName}/members/{userId} (an admin removes a
 * member, a member leaves) and PATCH .../members/{userId} (an admin changes a role), through the
 * real handlers and authorizer against DynamoDB Local.
 */
import { describe, expect, it } from 'vitest';
import { addMember, answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { pollUntil } from '../support/emails.ts';
import { storedMembership } from '../support/table.ts';

const { stack, user } = useTestStack();

const removeMember = (orgName: string, userId: string, caller: TestUser) =>
  stack.api.request('DELETE', paths.member(orgName, userId), { token: caller.token });
const changeRole = (orgName: string, userId: string, caller: TestUser, body: unknown) =>
  stack.api.request('PATCH', paths.member(orgName, userId), { token: caller.token, body });

/** A fresh organization (PRIVATE unless told), its creator and one plain member. */
async function orgWithMember(visibility: 'PUBLIC' | 'PRIVATE' = 'PRIVATE') {
  const creator = user('creator');
  const org = await createOrganization(stack, creator, { visibility });
  const member = await addMember(stack, creator, org.name, user('member'));
  return { creator, org, member };
}

async function memberIds(orgName: string, caller: TestUser): Promise<string[]> {
  const response = await stack.api.get(paths.organization(orgName), { token: caller.token });
  expect(response.status, response.text).toBe(200);
  return response.body.organizationMembers.map((m: { userId: string }) => m.userId).sort();
}

async function myOrganizationIds(caller: TestUser): Promise<number[]> {
  const response = await stack.api.get('/v1/user/organizations', { token: caller.token });
  expect(response.status).toBe(200);
  return response.body.map((o: { id: number }) => o.id);
}

describe('DELETE /v1/organizations/{orgName}/members/{userId}', () => {
  it('lets an admin remove a member: 204, the membership and its "my organizations" entry are gone, a second removal is 404', async () => {
    const { creator, org, member } = await orgWithMember();
    expect(await myOrganizationIds(member)).toContain(org.id);

    const removed = await removeMember(org.name, member.sub, creator);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect(await storedMembership(stack, org.id, member.sub)).toBeUndefined();
    expect(await memberIds(org.name, creator)).toEqual([creator.sub]);
    // "My organizations" reads GSI1, which DynamoDB updates eventually (no consistent reads on a
    // GSI): it is only a listing, every access check reads the membership item itself.
    expect(await pollUntil(() => myOrganizationIds(member), (ids) => !ids.includes(org.id))).not.toContain(org.id);

    const again = await removeMember(org.name, member.sub, creator);
    expect(again.status).toBe(404);
    expect(again.body.message).toBe('Member not found.');
  });

  it('lets a member leave (remove themself)', async () => {
    const { creator, org, member } = await orgWithMember();
    expect((await removeMember(org.name, member.sub, member)).status).toBe(204);
    expect(await memberIds(org.name, creator)).toEqual([creator.sub]);
  });

  it('lets an ADMIN member and a realm admin remove members, and an ADMIN member remove another admin', async () => {
    const { creator, org, member } = await orgWithMember();
    const second = await addMember(stack, creator, org.name, user('second'));
    const third = await addMember(stack, creator, org.name, user('third'));
    expect((await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' })).status).toBe(200);
    expect((await changeRole(org.name, second.sub, creator, { associationType: 'ADMIN' })).status).toBe(200);
    expect((await removeMember(org.name, second.sub, member)).status).toBe(204);
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    expect((await removeMember(org.name, third.sub, realmAdmin)).status).toBe(204);
    expect(await memberIds(org.name, creator)).toEqual([creator.sub, member.sub].sort());
  });

  it('never removes the creator: 400 to an admin, and the creator cannot leave', async () => {
    const { creator, org, member } = await orgWithMember();
    await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' });
    const byAdmin = await removeMember(org.name, creator.sub, member);
    expect(byAdmin.status).toBe(400);
    expect(byAdmin.body.message).toBe('The creator of an organization cannot be removed.');
    const leaving = await removeMember(org.name, creator.sub, creator);
    expect(leaving.status).toBe(400);
    expect(leaving.body.message).toBe('The creator of an organization cannot leave it.');
    expect(await storedMembership(stack, org.id, creator.sub)).toBeDefined();
  });

  it('answers 401 to a plain member removing someone else, and changes nothing', async () => {
    const { creator, org, member } = await orgWithMember();
    const other = await addMember(stack, creator, org.name, user('other'));
    for (const target of [other.sub, creator.sub, 'not-a-member']) {
      const response = await removeMember(org.name, target, member);
      expect(response.status).toBe(401);
    }
    expect(await memberIds(org.name, creator)).toEqual([creator.sub, member.sub, other.sub].sort());
  });

  it('answers 404 for a user who is not a member, including a non-member "leaving" a PUBLIC organization', async () => {
    const { creator, org } = await orgWithMember('PUBLIC');
    const notFound = await removeMember(org.name, 'nobody-here', creator);
    expect(notFound.status).toBe(404);
    expect(notFound.body.message).toBe('Member not found.');
    const stranger = user('stranger');
    expect((await removeMember(org.name, stranger.sub, stranger)).body).toEqual({ status: 404, message: 'Member not found.' });
  });

  it('gives a stranger of a PRIVATE organization exactly the 404 of an unknown organization', async () => {
    const { org, member } = await orgWithMember();
    const stranger = user('stranger');
    const hidden = await removeMember(org.name, member.sub, stranger);
    const unknown = await removeMember(uniqueOrgName(), member.sub, stranger);
    const badName = await removeMember('x', member.sub, stranger);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(unknown.body);
    expect(badName.body).toEqual(unknown.body);
    expect(unknown.body).toEqual({ status: 404, message: 'Organization not found.' });
    expect(await storedMembership(stack, org.id, member.sub)).toBeDefined();
  });

  it('answers 400 for a user id that cannot be one', async () => {
    const { creator, org } = await orgWithMember();
    const response = await removeMember(org.name, 'u'.repeat(256), creator);
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('The user id must be 1 to 255 characters.');
  });

  it('takes every access away at once: a removed admin gets 404 on a PRIVATE organization, 401 on a PUBLIC one', async () => {
    for (const visibility of ['PRIVATE', 'PUBLIC'] as const) {
      const { creator, org, member } = await orgWithMember(visibility);
      await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' });
      expect((await stack.api.get(paths.invitations(org.name), { token: member.token })).status).toBe(200);
      expect((await removeMember(org.name, member.sub, creator)).status).toBe(204);

      const expected = visibility === 'PRIVATE' ? 404 : 401;
      expect((await stack.api.get(paths.organization(org.name), { token: member.token })).status).toBe(visibility === 'PRIVATE' ? 404 : 200);
      expect((await stack.api.get(paths.invitations(org.name), { token: member.token })).status).toBe(expected);
      const creating = await stack.api.post(paths.invitations(org.name), { token: member.token, body: { emails: ['x@example.com'] } });
      expect(creating.status).toBe(expected);
      const patching = await stack.api.request('PATCH', `/v1/organizations/${org.id}/partial`, {
        token: member.token,
        body: { name: org.name, contactEmail: 'c@example.com', visibility },
      });
      expect(patching.status).toBe(expected);
      expect((await changeRole(org.name, creator.sub, member, { associationType: 'MEMBER' })).status).toBe(expected);
      expect((await removeMember(org.name, creator.sub, member)).status).toBe(expected);
    }
  });

  it('lets a removed member be invited again, and accept', async () => {
    const { creator, org, member } = await orgWithMember();
    const before = await invite(stack, creator, org.name, [member.email]);
    expect(before.skipped).toEqual([{ email: member.email, reason: 'ALREADY_MEMBER' }]);

    expect((await removeMember(org.name, member.sub, creator)).status).toBe(204);
    const after = await invite(stack, creator, org.name, [member.email]);
    expect(after.skipped).toEqual([]);
    expect(after.invitations).toHaveLength(1);
    await answerInvitation(stack, member, org.name, after.invitations[0].id, 'ACCEPTED');
    expect(await memberIds(org.name, creator)).toEqual([creator.sub, member.sub].sort());
    expect((await storedMembership(stack, org.id, member.sub))?.associationType).toBe('MEMBER');
  });

  it('resolves an old name of a renamed organization, as every name route does', async () => {
    const { creator, org, member } = await orgWithMember();
    const renamed = uniqueOrgName('renamed');
    const patched = await stack.api.request('PATCH', `/v1/organizations/${org.id}/partial`, {
      token: creator.token,
      body: { name: renamed, contactEmail: 'c@example.com', visibility: 'PRIVATE' },
    });
    expect(patched.status).toBe(200);
    expect((await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' })).body.associationType).toBe('ADMIN');
    expect((await removeMember(org.name, member.sub, creator)).status).toBe(204);
    expect(await memberIds(renamed, creator)).toEqual([creator.sub]);
  });
});

describe('PATCH /v1/organizations/{orgName}/members/{userId}', () => {
  it('lets an admin promote and demote a member: 200 with the member view; the role takes effect at once', async () => {
    const { creator, org, member } = await orgWithMember();
    const promoted = await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toEqual({ userId: member.sub, username: 'member', email: member.email, associationType: 'ADMIN' });
    expect((await stack.api.get(paths.invitations(org.name), { token: member.token })).status).toBe(200);
    const view = (await stack.api.get(paths.organization(org.name), { token: creator.token })).body;
    expect(view.organizationMembers).toContainEqual(promoted.body);

    const demoted = await changeRole(org.name, member.sub, creator, { associationType: 'MEMBER', ignored: true });
    expect(demoted.status).toBe(200);
    expect(demoted.body.associationType).toBe('MEMBER');
    expect((await stack.api.get(paths.invitations(org.name), { token: member.token })).status).toBe(401);
    // The same role again is a no-op 200.
    expect((await changeRole(org.name, member.sub, creator, { associationType: 'MEMBER' })).status).toBe(200);
  });

  it('refuses to change the creator (400), by anyone', async () => {
    const { creator, org, member } = await orgWithMember();
    await changeRole(org.name, member.sub, creator, { associationType: 'ADMIN' });
    for (const caller of [creator, member, user('realm-admin', { realmRoles: ['admin'] })]) {
      const response = await changeRole(org.name, creator.sub, caller, { associationType: 'MEMBER' });
      expect(response.status).toBe(400);
      expect(response.body.message).toBe("The role of the organization's creator cannot be changed.");
    }
    expect((await storedMembership(stack, org.id, creator.sub))?.associationType).toBe('ADMIN');
  });

  it('answers 401 to a plain member (themself included), 404 to a stranger of a PRIVATE organization and for a non-member', async () => {
    const { creator, org, member } = await orgWithMember();
    expect((await changeRole(org.name, member.sub, member, { associationType: 'ADMIN' })).status).toBe(401);
    const stranger = user('stranger');
    const hidden = await changeRole(org.name, member.sub, stranger, { associationType: 'ADMIN' });
    const unknown = await changeRole(uniqueOrgName(), member.sub, stranger, { associationType: 'ADMIN' });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(unknown.body);
    const notMember = await changeRole(org.name, stranger.sub, creator, { associationType: 'ADMIN' });
    expect(notMember.status).toBe(404);
    expect(notMember.body.message).toBe('Member not found.');
    expect(await storedMembership(stack, org.id, stranger.sub)).toBeUndefined();
    expect((await storedMembership(stack, org.id, member.sub))?.associationType).toBe('MEMBER');
  });

  it('answers 400 naming the field for a bad body', async () => {
    const { creator, org, member } = await orgWithMember();
    for (const body of [{}, { associationType: 'OWNER' }, { associationType: null }, [], 'ADMIN']) {
      const response = await changeRole(org.name, member.sub, creator, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toMatch(/associationType/);
    }
    expect((await storedMembership(stack, org.id, member.sub))?.associationType).toBe('MEMBER');
  });
});

describe('removing a member while an admin changes their role', () => {
  it('ends in one coherent state each time (10 rounds): the removal wins, the change is 200 before it or 404 after it', async () => {
    const creator = user('creator');
    const org = await createOrganization(stack, creator);
    const members = Array.from({ length: 10 }, (_, i) => user(`racer${i}`));
    const { invitations } = await invite(stack, creator, org.name, members.map((m) => m.email));
    for (const m of members) {
      const invitation = invitations.find((i) => i.userEmail === m.email)!;
      await answerInvitation(stack, m, org.name, invitation.id, 'ACCEPTED');
    }
    const outcomes: number[] = [];
    for (const [round, m] of members.entries()) {
      // Even rounds: the admin removes; odd rounds: the member leaves.
      const remover = round % 2 === 0 ? creator : m;
      const [removed, changed] = await Promise.all([
        removeMember(org.name, m.sub, remover),
        changeRole(org.name, m.sub, creator, { associationType: 'ADMIN' }),
      ]);
      expect(removed.status).toBe(204);
      expect([200, 404]).toContain(changed.status);
      if (changed.status === 200) expect(changed.body).toMatchObject({ userId: m.sub, associationType: 'ADMIN' });
      else expect(changed.body.message).toBe('Member not found.');
      outcomes.push(changed.status);
      // Never recreated by the role change.
      expect(await storedMembership(stack, org.id, m.sub)).toBeUndefined();
    }
    expect(await memberIds(org.name, creator)).toEqual([creator.sub]);
    expect(outcomes).toHaveLength(10);
  });
});
