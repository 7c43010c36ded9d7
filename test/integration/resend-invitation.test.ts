/**
 * POST /v1/organizations/{orgId}/invitations/{id}/resend: org admins resend a pending, unexpired
 * invitation. The expiry (and the pending guard's) restarts at now + INVITATION_EXPIRY_SECONDS,
 * sendCount increments and lastSentAt moves.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { toMembershipItem } from '../../shared/adapters/dynamodb/organization-store.ts';
import { createOrganization, expireInvitation, invite, type TestUser } from '../support/fixtures.ts';
import { startTestStack, userFactory, type TestStack } from '../support/stack.ts';

/** The default INVITATION_EXPIRY_SECONDS (7 days). */
const EXPIRY_SECONDS = 604_800;
/** The default INVITATION_RETENTION_SECONDS (30 days). */
const RETENTION_SECONDS = 2_592_000;

let stack: TestStack;
let user: ReturnType<typeof userFactory>;

beforeAll(async () => {
  stack = await startTestStack({ RATE_LIMIT_CREATE: '1000/600', RATE_LIMIT_RESEND: '1000/600' });
  user = userFactory(stack.issuer);
});

afterAll(async () => {
  await stack?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers

const resendPath = (orgId: number | string, invitationId: string) => `/v1/organizations/${orgId}/invitations/${invitationId}/resend`;

function resend(orgId: number | string, invitationId: string, caller: Pick<TestUser, 'token'>) {
  return stack.api.post(resendPath(orgId, invitationId), { token: caller.token });
}

/** A PRIVATE organization created by a fresh admin, with one pending invitation. */
async function orgWithInvitation() {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  const invitee = user('invitee');
  const { invitations } = await invite(stack, admin, org.name, [invitee.email]);
  expect(invitations).toHaveLength(1);
  return { admin, org, invitee, invitation: invitations[0] };
}

async function storedItem(key: { PK: string; SK: string }) {
  const { Item } = await stack.db.send(new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }));
  return Item;
}

const storedInvitation = (orgId: number, invitationId: string) => storedItem(keys.invitation(orgId, invitationId));
const storedGuard = (orgId: number, email: string) => storedItem(keys.pendingGuard(orgId, email.toLowerCase()));

/**
 * Moves an invitation's expiry (and its guard's) to `secondsFromNow`, still in the future, so that
 * a resend visibly pushes it out again.
 */
async function setExpiry(orgId: number, invitationId: string, secondsFromNow: number) {
  const expiresAt = Math.floor(Date.now() / 1000) + secondsFromNow;
  const { Attributes } = await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: 'SET expiresAt = :e',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':e': expiresAt },
      ReturnValues: 'ALL_NEW',
    }),
  );
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: keys.pendingGuard(orgId, Attributes!.emailNormalized as string),
      UpdateExpression: 'SET expiresAt = :e',
      ConditionExpression: 'invitationId = :id',
      ExpressionAttributeValues: { ':e': expiresAt, ':id': invitationId },
    }),
  );
  return expiresAt;
}

async function addAdminMember(orgId: number, member: TestUser) {
  await stack.db.send(
    new PutCommand({
      TableName: stack.tableName,
      Item: toMembershipItem({ orgId, userId: member.sub, email: member.email, associationType: 'ADMIN' }),
    }),
  );
}

async function answerAs(invitee: TestUser, orgName: string, invitationId: string, status: 'ACCEPTED' | 'REJECTED') {
  const response = await stack.api.put(`/v1/organizations/${orgName}/invitations/${invitationId}`, {
    token: invitee.token,
    body: { status },
  });
  expect(response.status, response.text).toBe(200);
}

const epochSeconds = (iso: string) => Date.parse(iso) / 1000;

/** Expects a 4xx/5xx with the standard body and that the invitation was not resent. */
async function expectRefused(response: Awaited<ReturnType<typeof resend>>, status: number, orgId: number, invitationId: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toEqual({ status, message: expect.any(String) });
  const item = await storedInvitation(orgId, invitationId);
  if (item) expect(item.sendCount).toBe(1);
}

// ---------------------------------------------------------------------------------------------

describe('resend: success', () => {
  it('answers 200 with the invitation, its expiry restarted at now + 7 days', async () => {
    const { admin, org, invitation } = await orgWithInvitation();
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
      sendCount: 2,
    });
    expect(Date.parse(response.body.lastSentAt)).toBeGreaterThan(Date.parse(invitation.lastSentAt));
    // The admin's reads agree.
    const read = await stack.api.get(`/v1/organizations/${org.name}/invitations/${invitation.id}`, { token: admin.token });
    expect(read.body).toEqual(response.body);
  });

  it('never moves the expiry backwards, even right after creation', async () => {
    const { admin, org, invitation } = await orgWithInvitation();

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    expect(Date.parse(response.body.expirationDate)).toBeGreaterThanOrEqual(Date.parse(invitation.expirationDate));
    expect(Math.abs(epochSeconds(response.body.expirationDate) - (Date.now() / 1000 + EXPIRY_SECONDS))).toBeLessThan(10);
  });

  it('counts every send: sendCount 1 → 2 → 3, lastSentAt moves each time', async () => {
    const { admin, org, invitation } = await orgWithInvitation();
    expect(invitation.sendCount).toBe(1);

    const second = await resend(org.id, invitation.id, admin);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const third = await resend(org.id, invitation.id, admin);

    expect(second.body.sendCount).toBe(2);
    expect(third.body.sendCount).toBe(3);
    expect(Date.parse(second.body.lastSentAt)).toBeGreaterThan(Date.parse(invitation.lastSentAt));
    expect(Date.parse(third.body.lastSentAt)).toBeGreaterThan(Date.parse(second.body.lastSentAt));
    expect(await storedInvitation(org.id, invitation.id)).toMatchObject({ sendCount: 3, lastSentAt: third.body.lastSentAt });
  });

  it('moves the stored expiry, TTL and pending guard together', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation();
    await setExpiry(org.id, invitation.id, 60);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status, response.text).toBe(200);
    const newExpiresAt = epochSeconds(response.body.expirationDate);
    expect(await storedInvitation(org.id, invitation.id)).toMatchObject({
      expiresAt: newExpiresAt,
      ttl: newExpiresAt + RETENTION_SECONDS,
      sendCount: 2,
    });
    expect(await storedGuard(org.id, invitee.email)).toMatchObject({ invitationId: invitation.id, expiresAt: newExpiresAt });
  });

  it('keeps the address blocked: a new invitation to it is still skipped ALREADY_INVITED', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation();
    expect((await resend(org.id, invitation.id, admin)).status).toBe(200);

    const again = await invite(stack, admin, org.name, [invitee.email]);

    expect(again).toEqual({ invitations: [], skipped: [{ email: invitee.email, reason: 'ALREADY_INVITED' }] });
  });

  it('reports the rate-limit window to a non-realm-admin', async () => {
    const { admin, org, invitation } = await orgWithInvitation();

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(response.headers.get('x-ratelimit-remaining'))).toBeLessThan(1000);
  });

  it('lets a realm admin who is not a member resend', async () => {
    const { org, invitation } = await orgWithInvitation();
    const realmAdmin = user('realm-admin', { realmRoles: ['default-roles-jaqpot', 'admin'] });

    const response = await resend(org.id, invitation.id, realmAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body.sendCount).toBe(2);
  });

  it('lets an ADMIN member who is not the creator resend', async () => {
    const { org, invitation } = await orgWithInvitation();
    const coAdmin = user('co-admin');
    await addAdminMember(org.id, coAdmin);

    const response = await resend(org.id, invitation.id, coAdmin);

    expect(response.status, response.text).toBe(200);
    expect(response.body.sendCount).toBe(2);
  });
});

describe('resend: only org admins (401)', () => {
  it('refuses a plain member with 401', async () => {
    const { admin, org, invitation } = await orgWithInvitation();
    const member = user('member');
    const memberInvitation = (await invite(stack, admin, org.name, [member.email])).invitations[0];
    await answerAs(member, org.name, memberInvitation.id, 'ACCEPTED');

    await expectRefused(await resend(org.id, invitation.id, member), 401, org.id, invitation.id);
  });

  it('refuses a stranger, the invitee, and the admin of another organization with 401', async () => {
    const { org, invitee, invitation } = await orgWithInvitation();
    const otherAdmin = user('other-admin');
    await createOrganization(stack, otherAdmin);

    for (const caller of [user('stranger'), invitee, otherAdmin]) {
      await expectRefused(await resend(org.id, invitation.id, caller), 401, org.id, invitation.id);
    }
  });
});

describe('resend: bad requests (400)', () => {
  it.each(['abc', '1.5', '-1', '1e3', '0x10', ' 1'])('refuses the organization id %j with 400', async (badOrgId) => {
    const { admin, org, invitation } = await orgWithInvitation();

    await expectRefused(await resend(encodeURIComponent(badOrgId), invitation.id, admin), 400, org.id, invitation.id);
  });

  it.each(['not-a-uuid', '42', `${randomUUID()}x`])('refuses the invitation id %j with 400', async (badId) => {
    const { admin, org } = await orgWithInvitation();

    const response = await resend(org.id, badId, admin);

    expect(response.status).toBe(400);
  });

  it.each(['ACCEPTED', 'REJECTED'] as const)('refuses an invitation already %s with 400', async (status) => {
    const { admin, org, invitee, invitation } = await orgWithInvitation();
    await answerAs(invitee, org.name, invitation.id, status);
    const before = await storedInvitation(org.id, invitation.id);

    const response = await resend(org.id, invitation.id, admin);

    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(new RegExp(`already status ${status}`));
    expect(await storedInvitation(org.id, invitation.id)).toEqual(before);
  });
});

describe('resend: not found (404)', () => {
  it('answers an unknown organization id with 404', async () => {
    const { admin, invitation } = await orgWithInvitation();
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    for (const caller of [admin, realmAdmin]) {
      const response = await resend(987_654_321, invitation.id, caller);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ status: 404, message: expect.any(String) });
    }
  });

  it('answers an unknown invitation with 404', async () => {
    const { admin, org } = await orgWithInvitation();

    const response = await resend(org.id, randomUUID(), admin);

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ status: 404, message: expect.any(String) });
  });

  it("answers org B's id with org A's invitation with 404 and leaves it untouched", async () => {
    const { admin, org: orgA, invitation } = await orgWithInvitation();
    const orgB = await createOrganization(stack, admin);
    expect(orgB.id).not.toBe(orgA.id);

    await expectRefused(await resend(orgB.id, invitation.id, admin), 404, orgA.id, invitation.id);
    expect(await storedInvitation(orgB.id, invitation.id)).toBeUndefined();
  });
});

describe('resend: expired (410)', () => {
  it('answers an expired invitation with 410 Gone and does not revive it', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation();
    await expireInvitation(stack, org.id, invitation.id);
    const before = await storedInvitation(org.id, invitation.id);

    const response = await resend(org.id, invitation.id, admin);

    await expectRefused(response, 410, org.id, invitation.id);
    expect(response.body.message).toMatch(/expired/i);
    expect(await storedInvitation(org.id, invitation.id)).toEqual(before);
    // The address is free again: a new invitation is created.
    const again = await invite(stack, admin, org.name, [invitee.email]);
    expect(again.invitations).toHaveLength(1);
    expect(again.skipped).toEqual([]);
  });

  it('answers 410 to a realm admin too', async () => {
    const { org, invitation } = await orgWithInvitation();
    await expireInvitation(stack, org.id, invitation.id);
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });

    await expectRefused(await resend(org.id, invitation.id, realmAdmin), 410, org.id, invitation.id);
  });
});
