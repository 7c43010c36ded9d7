/**
 * POST /v1/organizations/{orgId}/invitations/{id}/resend: org admins resend a pending, unexpired
 * invitation. The expiry (and the pending guard's) restarts at now + INVITATION_EXPIRY_SECONDS,
 * and a new email is requested: deliverySeq increments, emailStatus is PENDING again and
 * emailRequestedAt moves, with the invitation back in the pending-email index (GSI2). sendCount
 * and lastSentAt count emails SES accepted; no delivery function runs in this stack, so they
 * stay 0 and absent.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { addMember, answerInvitation, createOrganization, invite, orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack } from '../support/stack.ts';
import { addAdminMember, expireInvitation, setInvitationExpiry, storedGuard, storedInvitation } from '../support/table.ts';

/** The default INVITATION_EXPIRY_SECONDS (7 days). */
const EXPIRY_SECONDS = 604_800;
/** The default INVITATION_RETENTION_SECONDS (30 days). */
const RETENTION_SECONDS = 2_592_000;

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

function resend(orgId: number | string, invitationId: string, caller: Pick<TestUser, 'token'>) {
  return stack.api.post(paths.resend(orgId, invitationId), { token: caller.token });
}

/**
 * Moves an invitation's expiry (and its guard's) to `secondsFromNow`, still in the future, so that
 * a resend visibly pushes it out again. Returns the new expiry in epoch seconds.
 */
async function setExpiry(orgId: number, invitationId: string, secondsFromNow: number) {
  const expiresAt = Math.floor(Date.now() / 1000) + secondsFromNow;
  await setInvitationExpiry(stack, orgId, invitationId, expiresAt);
  return expiresAt;
}

const epochSeconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * Records an outcome for the invitation's first email request, as the delivery function would
 * (this stack runs none): sent once and then bounced, out of the pending-email index.
 */
async function recordBouncedFirstEmail(orgId: number, invitationId: string, sentAt: string) {
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression:
        'SET deliveredSeq = :one, emailStatus = :bounced, sendCount = :one, lastSentAt = :sentAt, ' +
        'lastError = :error, messageId = :messageId REMOVE GSI2PK, GSI2SK',
      ConditionExpression: 'deliverySeq = :one',
      ExpressionAttributeValues: {
        ':one': 1,
        ':bounced': 'BOUNCED',
        ':sentAt': sentAt,
        ':error': 'The recipient address bounced.',
        ':messageId': `ses-${randomUUID()}`,
      },
    }),
  );
}

/**
 * Expects a 4xx/5xx with the standard body and that the invitation was not resent: still its
 * first (and only) email request.
 */
async function expectRefused(response: Awaited<ReturnType<typeof resend>>, status: number, orgId: number, invitationId: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toEqual({ status, message: expect.any(String) });
  const item = await storedInvitation(stack, orgId, invitationId);
  if (item) {
    expect(item.deliverySeq).toBe(1);
    expect(item.emailRequestedAt).toBe(item.createdAt);
    expect(item.sendCount).toBe(0);
  }
}

// ---------------------------------------------------------------------------------------------

describe('resend: success', () => {
  it('answers 200 with the invitation, its expiry restarted at now + 7 days', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const oldExpiresAt = await setExpiry(org.id, invitation.id, 3600);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    const newExpiresAt = epochSeconds(response.body.expirationDate);
    expect(newExpiresAt).toBeGreaterThan(oldExpiresAt);
    expect(Math.abs(newExpiresAt - (Date.now() / 1000 + EXPIRY_SECONDS))).toBeLessThan(10);
    expect(response.body).toMatchObject({
      id: invitation.id,
      userEmail: invitation.userEmail,
      status: 'PENDING',
      createdAt: invitation.createdAt,
      invitedBy: invitation.invitedBy,
      emailStatus: 'PENDING',
      sendCount: 0,
    });
    expect(response.body).not.toHaveProperty('lastSentAt');
    expect(response.body).not.toHaveProperty('lastError');
    // A new email was requested, now.
    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored!.deliverySeq).toBe(2);
    expect(Date.parse(stored!.emailRequestedAt)).toBeGreaterThan(Date.parse(invitation.createdAt));
    // The admin's reads agree.
    const read = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(read.body).toEqual(response.body);
  });

  it('never moves the expiry backwards, even right after creation', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    expect(Date.parse(response.body.expirationDate)).toBeGreaterThanOrEqual(Date.parse(invitation.expirationDate));
    expect(Math.abs(epochSeconds(response.body.expirationDate) - (Date.now() / 1000 + EXPIRY_SECONDS))).toBeLessThan(10);
  });

  it('counts every email request: deliverySeq 1 → 2 → 3, emailRequestedAt moves each time', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    expect(invitation).toMatchObject({ emailStatus: 'PENDING', sendCount: 0 });
    const first = await storedInvitation(stack, org.id, invitation.id);
    expect(first).toMatchObject({
      deliverySeq: 1,
      deliveredSeq: 0,
      emailRequestedAt: invitation.createdAt,
      GSI2PK: expect.stringMatching(/^EMAIL#PENDING#\d+$/),
      GSI2SK: invitation.createdAt,
    });

    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await resend(org.id, invitation.id, admin);
    const afterSecond = await storedInvitation(stack, org.id, invitation.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const third = await resend(org.id, invitation.id, admin);
    const afterThird = await storedInvitation(stack, org.id, invitation.id);

    expect(second.status, second.text).toBe(200);
    expect(third.status, third.text).toBe(200);
    for (const response of [second, third]) {
      expect(response.body).toMatchObject({ emailStatus: 'PENDING', sendCount: 0 });
      expect(response.body).not.toHaveProperty('lastSentAt');
    }
    expect(afterSecond!.deliverySeq).toBe(2);
    expect(afterThird!.deliverySeq).toBe(3);
    expect(Date.parse(afterSecond!.emailRequestedAt)).toBeGreaterThan(Date.parse(first!.emailRequestedAt));
    expect(Date.parse(afterThird!.emailRequestedAt)).toBeGreaterThan(Date.parse(afterSecond!.emailRequestedAt));
    // No email was sent yet, so nothing is recorded as delivered.
    expect(afterThird).toMatchObject({ deliveredSeq: 0, emailStatus: 'PENDING', sendCount: 0 });
    expect(afterThird).not.toHaveProperty('lastSentAt');
    // Each request is queued in the pending-email index under its own request time.
    expect(afterThird).toMatchObject({ GSI2PK: expect.stringMatching(/^EMAIL#PENDING#\d+$/), GSI2SK: afterThird!.emailRequestedAt });
  });

  it('moves the stored expiry, TTL and pending guard together', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await setExpiry(org.id, invitation.id, 60);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    const newExpiresAt = epochSeconds(response.body.expirationDate);
    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored).toMatchObject({
      expiresAt: newExpiresAt,
      ttl: newExpiresAt + RETENTION_SECONDS,
      deliverySeq: 2,
      emailStatus: 'PENDING',
      GSI2PK: expect.stringMatching(/^EMAIL#PENDING#\d+$/),
      GSI2SK: stored!.emailRequestedAt,
    });
    expect(Date.parse(stored!.emailRequestedAt)).toBeGreaterThan(Date.parse(invitation.createdAt));
    expect(await storedGuard(stack, org.id, invitee.email)).toMatchObject({ invitationId: invitation.id, expiresAt: newExpiresAt });
  });

  it('after a delivered (then bounced) email: requests a new one, keeping sendCount and lastSentAt, clearing lastError', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const sentAt = new Date(Date.now() - 60_000).toISOString();
    await recordBouncedFirstEmail(org.id, invitation.id, sentAt);
    const before = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(before.body).toMatchObject({ emailStatus: 'BOUNCED', sendCount: 1, lastSentAt: sentAt, lastError: expect.any(String) });

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ emailStatus: 'PENDING', sendCount: 1, lastSentAt: sentAt });
    expect(response.body).not.toHaveProperty('lastError');
    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored).toMatchObject({
      deliverySeq: 2,
      deliveredSeq: 1,
      emailStatus: 'PENDING',
      sendCount: 1,
      lastSentAt: sentAt,
      GSI2PK: expect.stringMatching(/^EMAIL#PENDING#\d+$/),
      GSI2SK: stored!.emailRequestedAt,
    });
    expect(stored).not.toHaveProperty('lastError');
    const read = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(read.body).toEqual(response.body);
  });

  it('keeps the address blocked: a new invitation to it is still skipped ALREADY_INVITED', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    expect((await resend(org.id, invitation.id, admin)).status).toBe(200);

    const again = await invite(stack, admin, org.name, [invitee.email]);

    expect(again).toEqual({ invitations: [], skipped: [{ email: invitee.email, reason: 'ALREADY_INVITED' }] });
  });

  it('reports the rate-limit window to a non-realm-admin', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(response.headers.get('x-ratelimit-remaining'))).toBeLessThan(1000);
  });

  it('lets a realm admin who is not a member resend', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    const realmAdmin = user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] });

    const response = await resend(org.id, invitation.id, realmAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body.emailStatus).toBe('PENDING');
    expect((await storedInvitation(stack, org.id, invitation.id))!.deliverySeq).toBe(2);
  });

  it('lets an ADMIN member who is not the creator resend', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    const coAdmin = user('co-admin');
    await addAdminMember(stack, org.id, coAdmin);

    const response = await resend(org.id, invitation.id, coAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body.emailStatus).toBe('PENDING');
    expect((await storedInvitation(stack, org.id, invitation.id))!.deliverySeq).toBe(2);
  });
});

describe('resend: only org admins (401)', () => {
  it('refuses a plain member with 401', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const member = await addMember(stack, admin, org.name, user('member'));

    await expectRefused(await resend(org.id, invitation.id, member), 401, org.id, invitation.id);
  });

  it('answers a stranger, the invitee and the admin of another organization on a PRIVATE organization exactly as on an unknown one (404)', async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const otherAdmin = user('other-admin');
    await createOrganization(stack, otherAdmin);

    for (const caller of [user('stranger'), invitee, otherAdmin]) {
      const response = await resend(org.id, invitation.id, caller);
      await expectRefused(response, 404, org.id, invitation.id);
      expect(response.body).toEqual({ status: 404, message: 'Organization not found.' });
      expect(response.body).toEqual((await resend(987654321, invitation.id, caller)).body);
    }
  });

  it('refuses a stranger on a PUBLIC organization with 401', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    const { invitations } = await invite(stack, admin, org.name, [user('invitee').email]);
    await expectRefused(await resend(org.id, invitations[0].id, user('stranger')), 401, org.id, invitations[0].id);
  });
});

describe('resend: bad requests (400)', () => {
  it.each(['abc', '1.5', '-1', '1e3', '0x10', ' 1'])('refuses the organization id %j with 400', async (badOrgId) => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);

    await expectRefused(await resend(encodeURIComponent(badOrgId), invitation.id, admin), 400, org.id, invitation.id);
  });

  it.each(['not-a-uuid', '42', `${randomUUID()}x`])('refuses the invitation id %j with 400', async (badId) => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const response = await resend(org.id, badId, admin);

    expect(response.status).toBe(400);
  });

  it.each(['ACCEPTED', 'REJECTED'] as const)('refuses an invitation already %s with 400', async (status) => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await answerInvitation(stack, invitee, org.name, invitation.id, status);
    const before = await storedInvitation(stack, org.id, invitation.id);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(new RegExp(`already status ${status}`));
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(before);
  });
});

describe('resend: not found (404)', () => {
  it('answers an unknown organization id with 404', async () => {
    const { admin, invitation } = await orgWithInvitation(stack, user);
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    for (const caller of [admin, realmAdmin]) {
      const response = await resend(987_654_321, invitation.id, caller);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ status: 404, message: expect.any(String) });
    }
  });

  it('answers an unknown invitation with 404', async () => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const response = await resend(org.id, randomUUID(), admin);

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ status: 404, message: expect.any(String) });
  });

  it("answers org B's id with org A's invitation with 404 and leaves it untouched", async () => {
    const { admin, org: orgA, invitation } = await orgWithInvitation(stack, user);
    const orgB = await createOrganization(stack, admin);
    expect(orgB.id).not.toBe(orgA.id);

    await expectRefused(await resend(orgB.id, invitation.id, admin), 404, orgA.id, invitation.id);
    expect(await storedInvitation(stack, orgB.id, invitation.id)).toBeUndefined();
  });
});

describe('resend: expired (410)', () => {
  it('answers an expired invitation with 410 Gone and does not revive it', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);
    const before = await storedInvitation(stack, org.id, invitation.id);

    const response = await resend(org.id, invitation.id, admin);

    await expectRefused(response, 410, org.id, invitation.id);
    expect(response.body.message).toMatch(/expired/i);
    expect(await storedInvitation(stack, org.id, invitation.id)).toEqual(before);
    // The address is free again: a new invitation is created.
    const again = await invite(stack, admin, org.name, [invitee.email]);
    expect(again.invitations).toHaveLength(1);
    expect(again.skipped).toEqual([]);
  });

  it('answers 410 to a realm admin too', async () => {
    const { org, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    await expectRefused(await resend(org.id, invitation.id, realmAdmin), 410, org.id, invitation.id);
  });
});
