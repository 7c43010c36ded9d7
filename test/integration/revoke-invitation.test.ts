/**
 * DELETE /v1/organizations/{orgName}/invitations/{invitationId}: org admins revoke a PENDING
 * invitation, live or expired. It is kept as invisible history (stored status REVOKED, TTL at
 * revocation + ANSWERED_INVITATION_RETENTION_SECONDS) and gone for every Jaqpot view: GET, PUT
 * and resend answer 404, lists never show it. Its pending guard is released in the same
 * transaction, so the address can be invited again at once; an email not yet sent is never sent
 * (the delivery records NOT_NEEDED). Accepted and rejected invitations stay (400).
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { emailsTo, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import {
  addMember,
  answerInvitation,
  createOrganization,
  invite,
  orgWithInvitation,
  paths,
  type TestUser,
} from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { addAdminMember, expireInvitation, storedGuard, storedInvitation } from '../support/table.ts';

/** The default ANSWERED_INVITATION_RETENTION_SECONDS (365 days). */
const ANSWERED_RETENTION_SECONDS = 31_536_000;
const ROUNDS = 10;

const { stack, user } = useTestStack();

let deliver: (event: DynamoDBStreamEvent, context: ReturnType<typeof lambdaContext>) => Promise<DynamoDBBatchResponse>;
let sequence = 200_000_000_000_000_000_000n;

beforeAll(async () => {
  // Handler modules read their environment at load: import once the stack has set it.
  deliver = (await import('../../functions/deliver-invitation-emails.ts')).handler as any;
});

const revoke = (orgName: string, invitationId: string, caller: Pick<TestUser, 'token'>) =>
  stack.api.delete(paths.invitation(orgName, invitationId), { token: caller.token });

const ALREADY = (status: string) => `This invitation has already status ${status}.`;

async function listedIds(admin: TestUser, orgName: string, query = '') {
  const response = await stack.api.get(`${paths.invitations(orgName)}${query}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return (response.body as any[]).map((i) => i.id as string);
}

/** Every Jaqpot view agrees the invitation is gone, and the store keeps it as REVOKED history. */
async function expectRevoked(admin: TestUser, invitee: TestUser, org: { id: number; name: string }, invitationId: string) {
  const missing = { status: 404, message: 'Invitation not found.' };
  for (const caller of [admin, invitee]) {
    const read = await stack.api.get(paths.invitation(org.name, invitationId), { token: caller.token });
    expect(read.status, read.text).toBe(404);
    expect(read.body).toEqual(missing);
  }
  for (const status of ['ACCEPTED', 'REJECTED', 'PENDING']) {
    const answer = await stack.api.put(paths.invitation(org.name, invitationId), { token: invitee.token, body: { status } });
    expect(answer.status, answer.text).toBe(404);
    expect(answer.body).toEqual(missing);
  }
  const resent = await stack.api.post(paths.resend(org.id, invitationId), { token: admin.token });
  expect(resent.status, resent.text).toBe(404);
  for (const query of ['', '?status=PENDING', '?status=EXPIRED', '?status=ACCEPTED', '?status=REJECTED', '?emailStatus=PENDING', '?limit=100']) {
    expect(await listedIds(admin, org.name, query)).not.toContain(invitationId);
  }
  const stored = await storedInvitation(stack, org.id, invitationId);
  expect(stored).toMatchObject({ status: 'REVOKED', revokedBy: admin.sub, revokedAt: expect.any(String) });
  expect(Math.abs(stored!.ttl - (Date.parse(stored!.revokedAt) / 1000 + ANSWERED_RETENTION_SECONDS))).toBeLessThan(2);
  return stored!;
}

// ---------------------------------------------------------------------------------------------

describe('revoke: a pending invitation', () => {
  it('answers 204 without a body; afterwards GET, PUT, resend are 404 and no list shows it', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(204);
    expect(response.text).toBe('');
    await expectRevoked(admin, invitee, org, invitation.id);
  });

  it('releases the pending guard: the address can be invited again at once', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect(await storedGuard(stack, org.id, invitee.email)).toMatchObject({ invitationId: invitation.id });

    expect((await revoke(org.name, invitation.id, admin)).status).toBe(204);

    expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
    const again = await invite(stack, admin, org.name, [invitee.email]);
    expect(again.skipped).toEqual([]);
    expect(again.invitations).toHaveLength(1);
    expect(await listedIds(admin, org.name, '?status=PENDING')).toEqual([again.invitations[0].id]);
    // The new invitation is the invitee's, and answerable.
    await answerInvitation(stack, invitee, org.name, again.invitations[0].id, 'ACCEPTED');
  });

  it('revokes an expired invitation too, releasing its guard', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);
    expect(await listedIds(admin, org.name, '?status=EXPIRED')).toEqual([invitation.id]);

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(204);
    await expectRevoked(admin, invitee, org, invitation.id);
    expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
  });

  it('revokes an expired invitation whose address was invited again, leaving the newer invitation and its guard alone', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);
    const newer = (await invite(stack, admin, org.name, [invitee.email])).invitations[0];

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(204);
    await expectRevoked(admin, invitee, org, invitation.id);
    expect(await storedGuard(stack, org.id, invitee.email)).toMatchObject({ invitationId: newer.id });
    expect(await listedIds(admin, org.name, '?status=PENDING')).toEqual([newer.id]);
    const skipped = await invite(stack, admin, org.name, [invitee.email]);
    expect(skipped.skipped).toEqual([{ email: invitee.email, reason: 'ALREADY_INVITED' }]);
  });

  it('never sends an email not yet sent: the delivery records NOT_NEEDED', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const address = uniqueAddress('revoked');
    const { invitations } = await invite(stack, admin, org.name, [address]);
    const invitation = invitations[0];
    const created = await storedInvitation(stack, org.id, invitation.id);

    expect((await revoke(org.name, invitation.id, admin)).status).toBe(204);
    // The stream record of the creation arrives after the revoke; so does the revoke's own (its
    // emailStatus is still PENDING, which the delivery filter matches).
    const revoked = await storedInvitation(stack, org.id, invitation.id);
    const result = await deliver(
      { Records: [streamRecordOf(created!, String(sequence++)), streamRecordOf(revoked!, String(sequence++), 'MODIFY')] },
      lambdaContext('deliverInvitationEmails'),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored).toMatchObject({ status: 'REVOKED', emailStatus: 'NOT_NEEDED', deliveredSeq: 1, sendCount: 0 });
    expect(stored).not.toHaveProperty('GSI2PK');
    expect(stored).not.toHaveProperty('lastError');
    expect(await emailsTo(stack.sesEndpoint, [address])).toEqual([]);
  });

  it('lets an ADMIN member who is not the creator, and a realm admin who is not a member, revoke', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const second = user('second-admin');
    await addAdminMember(stack, org.id, second);
    const other = (await invite(stack, admin, org.name, [uniqueAddress()])).invitations[0];
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    expect((await revoke(org.name, invitation.id, second)).status).toBe(204);
    expect((await revoke(org.name, other.id, realmAdmin)).status).toBe(204);

    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'REVOKED', revokedBy: second.sub });
    expect(await storedInvitation(stack, org.id, other.id)).toMatchObject({ status: 'REVOKED', revokedBy: realmAdmin.sub });
    expect((await stack.api.get(paths.invitation(org.name, invitation.id), { token: invitee.token })).status).toBe(404);
  });

  it('resolves an old name of a renamed organization', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    const newName = uniqueOrgName();
    const renamed = await stack.api.request('PATCH', `/v1/organizations/${org.id}/partial`, {
      token: admin.token,
      body: { name: newName, contactEmail: 'c@example.com', visibility: 'PRIVATE' },
    });
    expect(renamed.status, renamed.text).toBe(200);

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(204);
    await expectRevoked(admin, invitee, { id: org.id, name: newName }, invitation.id);
  });
});

describe('revoke: refused', () => {
  it.each(['ACCEPTED', 'REJECTED'] as const)('answers 400 for a %s invitation, which stays as history', async (status) => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await answerInvitation(stack, invitee, org.name, invitation.id, status);
    const before = await storedInvitation(stack, org.id, invitation.id);

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(400);
    expect(response.body).toEqual({ status: 400, message: ALREADY(status) });
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(before);
    const read = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(read.body).toMatchObject({ id: invitation.id, status });
    expect(await listedIds(admin, org.name, `?status=${status}`)).toEqual([invitation.id]);
  });

  it('answers 404 to a second revoke', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    expect((await revoke(org.name, invitation.id, admin)).status).toBe(204);
    const before = await storedInvitation(stack, org.id, invitation.id);

    const response = await revoke(org.name, invitation.id, admin);

    expect(response.status, response.text).toBe(404);
    expect(response.body).toEqual({ status: 404, message: 'Invitation not found.' });
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(before);
  });

  it('answers 404 for an unknown invitation or organization, and for a malformed organization name', async () => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const unknownInvitation = await revoke(org.name, randomUUID(), admin);
    const unknownOrg = await revoke(uniqueOrgName(), randomUUID(), admin);
    const badName = await revoke('x', randomUUID(), admin);

    expect(unknownInvitation.status).toBe(404);
    expect(unknownInvitation.body).toEqual({ status: 404, message: 'Invitation not found.' });
    expect(unknownOrg.status).toBe(404);
    expect(unknownOrg.body).toEqual({ status: 404, message: 'Organization not found.' });
    expect(badName.status).toBe(404);
    expect(badName.body).toEqual(unknownOrg.body);
  });

  it('answers 400 for a malformed invitation id', async () => {
    const { admin, org } = await orgWithInvitation(stack, user);
    const response = await revoke(org.name, 'not-a-uuid', admin);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, message: 'The invitation id must be a UUID.' });
  });

  it('answers a stranger to a PRIVATE organization exactly as for an unknown one, changing nothing', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    const stranger = user('stranger');

    const response = await revoke(org.name, invitation.id, stranger);
    const reference = await revoke(uniqueOrgName(), invitation.id, stranger);

    expect(response.status).toBe(404);
    expect(response.body).toEqual(reference.body);
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });

  it('answers 401 to a plain member, and to a stranger to a PUBLIC organization, changing nothing', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    const member = await addMember(stack, admin, org.name, user('member'));
    const invitee = user('invitee');
    const invitation = (await invite(stack, admin, org.name, [invitee.email])).invitations[0];

    for (const caller of [member, user('stranger'), invitee]) {
      const response = await revoke(org.name, invitation.id, caller);
      expect(response.status, response.text).toBe(401);
      expect(response.body).toEqual({ status: 401, message: 'Only organization admins can do this.' });
    }
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
    expect(await storedGuard(stack, org.id, invitee.email)).toMatchObject({ invitationId: invitation.id });
  });

  it('answers 401 to a plain member of a PRIVATE organization', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const member = await addMember(stack, admin, org.name, user('member'));
    const response = await revoke(org.name, invitation.id, member);
    expect(response.status).toBe(401);
    expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'PENDING' });
  });
});

describe('revoke: races', () => {
  it(`race: revoke vs accept, ${ROUNDS} rounds: exactly one wins and the stored state agrees`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
      const [revoked, accepted] = await Promise.all([
        revoke(org.name, invitation.id, admin),
        stack.api.put(paths.invitation(org.name, invitation.id), { token: invitee.token, body: { status: 'ACCEPTED' } }),
      ]);
      const stored = await storedInvitation(stack, org.id, invitation.id);
      if (revoked.status === 204) {
        expect(accepted.status, accepted.text).toBe(404);
        expect(stored).toMatchObject({ status: 'REVOKED' });
        expect(stored).not.toHaveProperty('userId');
        expect((await stack.api.get(paths.organization(org.name), { token: invitee.token })).status).toBe(404);
      } else {
        expect(revoked.status, revoked.text).toBe(400);
        expect(revoked.body.message).toBe(ALREADY('ACCEPTED'));
        expect(accepted.status, accepted.text).toBe(200);
        expect(stored).toMatchObject({ status: 'ACCEPTED', userId: invitee.sub });
      }
      expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
    }
  });

  it(`race: revoke vs resend, ${ROUNDS} rounds: the stored state agrees with both answers`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
      const [revoked, resent] = await Promise.all([
        revoke(org.name, invitation.id, admin),
        stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token }),
      ]);
      // The revoke always wins in the end (a resend keeps the invitation PENDING); the resend
      // either happened before it (200, a second email request) or found it gone (404).
      expect(revoked.status, revoked.text).toBe(204);
      const stored = await storedInvitation(stack, org.id, invitation.id);
      expect(stored).toMatchObject({ status: 'REVOKED' });
      if (resent.status === 200) expect(stored!.deliverySeq).toBe(2);
      else {
        expect(resent.status, resent.text).toBe(404);
        expect(stored!.deliverySeq).toBe(1);
      }
      // A resend never re-creates the guard of a revoked invitation.
      expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
    }
  });

  it(`race: two revokes, ${ROUNDS} rounds: one 204, one 404`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
      const responses = await Promise.all([revoke(org.name, invitation.id, admin), revoke(org.name, invitation.id, admin)]);
      expect(responses.map((r) => r.status).sort()).toEqual([204, 404]);
      expect(await storedInvitation(stack, org.id, invitation.id)).toMatchObject({ status: 'REVOKED' });
      expect(await storedGuard(stack, org.id, invitee.email)).toBeUndefined();
    }
  });
});
