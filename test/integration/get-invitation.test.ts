/**
 * GET /v1/organizations/{name}/invitations/{uuid}: the invitee (verified email, compared
 * case-insensitively) and org admins may read an invitation; everyone else, and every unknown
 * id or organization, gets one and the same 404 body so that nothing can be probed.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addMember, createOrganization, orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { addAdminMember, expireInvitation } from '../support/table.ts';

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

function getInvitation(orgName: string, invitationId: string, caller: Pick<TestUser, 'token'>) {
  return stack.api.get(paths.invitation(orgName, invitationId), { token: caller.token });
}

/** A token for the same user with a different email claim (and optionally unverified). */
function sameUserWithEmail(base: TestUser, email: string, emailVerified = true): TestUser {
  return user('same', { sub: base.sub, email, emailVerified });
}

/** The reference 404 every non-reader must get: an unknown id in an existing organization. */
async function unknownInvitationResponse(orgName: string, caller: TestUser) {
  const response = await getInvitation(orgName, randomUUID(), caller);
  expect(response.status).toBe(404);
  expect(response.body).toEqual({ status: 404, message: expect.any(String) });
  return response.body;
}

// ---------------------------------------------------------------------------------------------

describe('GET invitation: who may read it', () => {
  it('returns the invitation to the invitee', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await getInvitation(org.name, invitation.id, invitee);

    expect(response.status, response.text).toBe(200);
    // The admin's view (from create) less the link, which only org admins get.
    const { link, ...inviteeView } = invitation;
    expect(link).toEqual(expect.any(String));
    expect(response.body).toEqual(inviteeView);
    expect(response.body).not.toHaveProperty('link');
    expect(response.body).toMatchObject({
      id: invitation.id,
      userEmail: invitee.email,
      status: 'PENDING',
      emailStatus: 'PENDING',
      sendCount: 0,
    });
  });

  it('matches the token email case-insensitively, both ways', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user, {
      inviteeEmail: `Mixed.Case-${randomUUID().slice(0, 8)}@Example.COM`,
    });

    const lowerCase = await getInvitation(org.name, invitation.id, sameUserWithEmail(invitee, invitee.email.toLowerCase()));
    const upperCase = await getInvitation(org.name, invitation.id, sameUserWithEmail(invitee, invitee.email.toUpperCase()));

    expect(lowerCase.status, lowerCase.text).toBe(200);
    expect(upperCase.status, upperCase.text).toBe(200);
    expect(lowerCase.body.userEmail).toBe(invitee.email); // stored as typed
  });

  it('accepts an uppercase UUID in the path', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await getInvitation(org.name, invitation.id.toUpperCase(), invitee);

    expect(response.status, response.text).toBe(200);
    expect(response.body.id).toBe(invitation.id);
  });

  it('returns the invitation to the organization creator', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);

    const response = await getInvitation(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(invitation);
  });

  it('returns the invitation to a realm admin who is not a member', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    const realmAdmin = user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] });

    const response = await getInvitation(org.name, invitation.id, realmAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(invitation);
  });

  it('returns the invitation to an ADMIN member who is not the creator', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    const coAdmin = user('co-admin');
    await addAdminMember(stack, org.id, coAdmin, 'co-admin');

    const response = await getInvitation(org.name, invitation.id, coAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(invitation);
  });
});

describe('GET invitation: everyone else sees the same 404', () => {
  it('answers a stranger with the unknown-invitation 404', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);

    const response = await getInvitation(org.name, invitation.id, user('stranger'));

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });

  it('answers a plain member of the organization with 404', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const member = await addMember(stack, admin, org.name, user('member'));
    const reference = await unknownInvitationResponse(org.name, admin);

    const response = await getInvitation(org.name, invitation.id, member);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });

  it('answers the admin of another organization with 404', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const otherAdmin = user('other-admin');
    await createOrganization(stack, otherAdmin);
    const reference = await unknownInvitationResponse(org.name, admin);

    const response = await getInvitation(org.name, invitation.id, otherAdmin);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });

  it('answers an unknown invitation id with 404, even to the creator', async () => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const response = await getInvitation(org.name, randomUUID(), admin);

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ status: 404, message: expect.any(String) });
  });

  it('answers an unknown organization with the same 404 as an unknown invitation', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    for (const caller of [admin, invitee, realmAdmin]) {
      const response = await getInvitation(uniqueOrgName('missing'), invitation.id, caller);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference);
    }
  });

  it('answers an organization name no organization can have (too short, with a dot) with the same 404', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);

    for (const impossibleName of ['ab', 'a.b']) {
      const response = await getInvitation(impossibleName, invitation.id, admin);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference);
    }
  });

  it("answers org B's name with org A's invitation id with 404, for the invitee and for an admin of both", async () => {
    const { admin, org: orgA, invitee, invitation } = await orgWithInvitation(stack, user);
    const orgB = await createOrganization(stack, admin);
    const reference = await unknownInvitationResponse(orgA.name, admin);

    for (const caller of [admin, invitee]) {
      const response = await getInvitation(orgB.name, invitation.id, caller);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(reference);
    }
    // Still readable under its own organization.
    expect((await getInvitation(orgA.name, invitation.id, invitee)).status).toBe(200);
  });

  it.each([
    ['a Cyrillic lookalike letter', (email: string) => email.replace('example', 'ex\u0430mple')],
    ['a trailing dot on the domain', (email: string) => `${email}.`],
    ['a trailing space', (email: string) => `${email} `],
    ['a leading space', (email: string) => ` ${email}`],
  ])('answers a token email with %s with 404', async (_label, lookalike) => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);
    const impostor = user('impostor', { email: lookalike(invitee.email) });
    expect(impostor.email).not.toBe(invitee.email);

    const response = await getInvitation(org.name, invitation.id, impostor);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });

  it('answers a caller whose token has no email with 404', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);
    const noEmail = { token: stack.issuer.token({ sub: invitee.sub, username: 'no-email' }) };

    const response = await getInvitation(org.name, invitation.id, noEmail);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });
});

describe('GET invitation: bad requests', () => {
  it.each(['not-a-uuid', '12345', `${randomUUID()}0`, randomUUID().replace(/-/g, ''), `${randomUUID().slice(0, 35)}g`])(
    'answers a malformed uuid (%s) with 400',
    async (badId) => {
      const { admin, org } = await orgWithInvitation(stack, user);

      const response = await getInvitation(org.name, badId, admin);

      expect(response.status).toBe(400);
      expect(response.body).toEqual({ status: 400, message: expect.any(String) });
    },
  );

  it('answers the invitee with an unverified email with 400 and code 1001', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const unverified = sameUserWithEmail(invitee, invitee.email, false);

    const response = await getInvitation(org.name, invitation.id, unverified);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, code: 1001, message: expect.any(String) });
  });

  it('answers a non-invitee with an unverified email with 404, not 1001 (nothing is revealed)', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const reference = await unknownInvitationResponse(org.name, admin);

    const response = await getInvitation(org.name, invitation.id, user('stranger', { emailVerified: false }));

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference);
  });
});

describe('GET invitation: expired invitations', () => {
  it('still returns an expired invitation, as PENDING with an expirationDate in the past', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);

    for (const caller of [invitee, admin]) {
      const response = await getInvitation(org.name, invitation.id, caller);
      expect(response.status, response.text).toBe(200);
      expect(response.body.status).toBe('PENDING');
      expect(Date.parse(response.body.expirationDate)).toBeLessThan(Date.now());
      expect(Date.parse(response.body.expirationDate)).toBeLessThan(Date.parse(invitation.expirationDate));
    }
  });
});
