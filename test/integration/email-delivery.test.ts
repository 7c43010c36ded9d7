/**
 * Invitation emails end to end: the API commits invitations, the table's stream feeds the
 * delivery function (local stream poller, same filter as on AWS), and the emails land in the SES
 * emulator. The emulator is shared by all test files, so every test sends to its own addresses
 * and looks only at those.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LocalEmail } from '../../local/ses-local.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import {
  expectExactlyEmails,
  LOCAL_FRONTEND_URL,
  LOCAL_SENDER,
  uniqueAddress,
  waitForEmails,
  waitUntilSent,
} from '../support/emails.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

// ---------------------------------------------------------------------------------------------
// Helpers

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The parts of an expiry the email must show: e.g. "5 December 2026" and "14:03 UTC". */
function expiryParts(expirationDate: string) {
  const date = new Date(expirationDate);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    day: `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`,
    time: `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`,
  };
}

const invitationLink = (orgName: string, invitationId: string) =>
  `${LOCAL_FRONTEND_URL}/dashboard/organizations/${orgName}/invitations/${invitationId}`;

const emailTo = (emails: LocalEmail[], address: string) => emails.find((email) => email.destination.to.includes(address));

async function getInvitation(admin: TestUser, orgName: string, invitationId: string) {
  const response = await stack.api.get(paths.invitation(orgName, invitationId), { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

async function listByEmailStatus(admin: TestUser, orgName: string, emailStatus: string) {
  const response = await stack.api.get(`${paths.invitations(orgName)}?emailStatus=${emailStatus}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body as any[];
}

/** An organization of a fresh admin whose token has `preferred_username` = `username` (none if undefined). */
async function orgOfAdmin(username: string | undefined) {
  const admin = user('admin', { username });
  const org = await createOrganization(stack, admin);
  return { admin, org };
}

/** Invites one fresh address and waits for its one email. */
async function inviteOne(admin: TestUser, orgName: string) {
  const address = uniqueAddress();
  const { invitations } = await invite(stack, admin, orgName, [address]);
  const [email] = await expectExactlyEmails(stack.sesEndpoint, [address], 1, 0);
  return { address, invitation: invitations[0], email: email! };
}

// ---------------------------------------------------------------------------------------------

describe('creating invitations sends one email each', () => {
  it('3 invitations in one request → exactly 3 emails, one per recipient, with everything the invitee needs', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const addresses = [uniqueAddress('one'), uniqueAddress('two'), uniqueAddress('three')];

    const { invitations } = await invite(stack, admin, org.name, addresses);
    expect(invitations).toHaveLength(3);
    expect(invitations.every((i) => i.emailStatus === 'PENDING' && i.sendCount === 0)).toBe(true);

    const emails = await expectExactlyEmails(stack.sesEndpoint, addresses, 3, 1_500);
    for (const invitation of invitations) {
      const email = emailTo(emails, invitation.userEmail);
      expect(email, `email to ${invitation.userEmail}`).toBeDefined();
      expect(email!.destination).toEqual({ to: [invitation.userEmail], cc: [], bcc: [] });
      expect(email!.from).toBe(LOCAL_SENDER);
      expect(email!.subject).toBe(`alice invited you to join ${org.name} on Jaqpot`);

      const { html, text } = email!.body;
      expect(html, 'HTML part').toBeTruthy();
      expect(text, 'text part').toBeTruthy();
      const link = invitationLink(org.name, invitation.id);
      const expiry = expiryParts(invitation.expirationDate);
      for (const part of [html!, text!]) {
        expect(part).toContain(link);
        expect(part).toContain(expiry.day);
        expect(part).toContain(expiry.time);
        expect(part).toMatch(/because alice invited this address to [\w-]+\. If you were not expecting it, you can ignore this email\./);
      }
      expect(html).toContain(`href="${link}"`);
    }
    // One invitation's email never carries another's link.
    for (const email of emails) {
      const own = invitations.find((i) => email.destination.to.includes(i.userEmail))!;
      for (const other of invitations.filter((i) => i !== own)) expect(email.body.text).not.toContain(other.id);
    }
  });

  it('arrives within about 2 seconds of the create request', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const address = uniqueAddress('fast');

    const started = Date.now();
    await invite(stack, admin, org.name, [address]);
    const emails = await waitForEmails(stack.sesEndpoint, [address], 1, { timeoutMs: 5_000, intervalMs: 50 });
    const elapsed = Date.now() - started;

    expect(emails).toHaveLength(1);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('names the inviter by email when the token has no preferred_username', async () => {
    const { admin, org } = await orgOfAdmin(undefined);

    const { email } = await inviteOne(admin, org.name);

    expect(email.subject).toBe(`${admin.email} invited you to join ${org.name} on Jaqpot`);
    expect(email.body.text).toContain(`because ${admin.email} invited this address`);
  });
});

describe('delivery state', () => {
  it('after delivery: emailStatus SENT, sendCount 1, lastSentAt set (GET and list)', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const addresses = [uniqueAddress(), uniqueAddress()];
    const { invitations } = await invite(stack, admin, org.name, addresses);
    await expectExactlyEmails(stack.sesEndpoint, addresses, 2, 0);
    for (const invitation of invitations) await waitUntilSent(stack, org.id, invitation.id);

    for (const invitation of invitations) {
      const body = await getInvitation(admin, org.name, invitation.id);
      expect(body).toMatchObject({ id: invitation.id, status: 'PENDING', emailStatus: 'SENT', sendCount: 1 });
      expect(Date.parse(body.lastSentAt)).toBeGreaterThanOrEqual(Date.parse(invitation.createdAt));
      expect(body.lastError).toBeUndefined();
    }
    const listed = (await stack.api.get(paths.invitations(org.name), { token: admin.token })).body as any[];
    expect(listed).toHaveLength(2);
    for (const item of listed) {
      expect(item).toMatchObject({ emailStatus: 'SENT', sendCount: 1, lastSentAt: expect.any(String) });
    }
  });

  it('the list filters by emailStatus', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const addresses = [uniqueAddress(), uniqueAddress(), uniqueAddress()];
    const { invitations } = await invite(stack, admin, org.name, addresses);
    await expectExactlyEmails(stack.sesEndpoint, addresses, 3, 0);
    for (const invitation of invitations) await waitUntilSent(stack, org.id, invitation.id);
    // One of them failed later (as the delivery function records it; the stream filter ignores FAILED).
    const failed = invitations[1];
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.invitation(org.id, failed.id),
        UpdateExpression: 'SET emailStatus = :failed, lastError = :reason',
        ExpressionAttributeValues: { ':failed': 'FAILED', ':reason': 'SES rejected the message.' },
      }),
    );

    const sent = await listByEmailStatus(admin, org.name, 'SENT');
    const failedOnes = await listByEmailStatus(admin, org.name, 'FAILED');
    const pending = await listByEmailStatus(admin, org.name, 'PENDING');

    expect(sent.map((i) => i.id).sort()).toEqual([invitations[0].id, invitations[2].id].sort());
    expect(sent.every((i) => i.emailStatus === 'SENT')).toBe(true);
    expect(failedOnes.map((i) => i.id)).toEqual([failed.id]);
    expect(failedOnes[0]).toMatchObject({ emailStatus: 'FAILED', lastError: 'SES rejected the message.' });
    expect(pending).toEqual([]);
  });

  it('rejects an unknown emailStatus filter with 400', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const response = await stack.api.get(`${paths.invitations(org.name)}?emailStatus=DELIVERED`, { token: admin.token });
    expect(response.status, response.text).toBe(400);
  });
});

describe('resend', () => {
  it('sends exactly one more email and counts it (sendCount 2)', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const { address, invitation } = await inviteOne(admin, org.name);
    const first = await waitUntilSent(stack, org.id, invitation.id);

    const resent = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body).toMatchObject({ emailStatus: 'PENDING', sendCount: 1 });

    const emails = await expectExactlyEmails(stack.sesEndpoint, [address], 2, 1_500);
    const second = await waitUntilSent(stack, org.id, invitation.id, 2);
    expect(second).toMatchObject({ sendCount: 2, deliverySeq: 2, deliveredSeq: 2 });
    expect(second.messageId).not.toBe(first.messageId);
    expect(second.messageId).toBe(emails[1]!.messageId);

    const body = await getInvitation(admin, org.name, invitation.id);
    expect(body).toMatchObject({ emailStatus: 'SENT', sendCount: 2 });
    expect(Date.parse(body.lastSentAt)).toBeGreaterThan(Date.parse(first.lastSentAt));
    // The resent email carries the renewed expiry.
    expect(emails[1]!.body.text).toContain(expiryParts(resent.body.expirationDate).day);
    expect(emails[1]!.body.text).toContain(invitationLink(org.name, invitation.id));
  });
});

describe('user-controlled values in the email', () => {
  it('an inviter name with HTML arrives escaped in the HTML part', async () => {
    const { admin, org } = await orgOfAdmin('<script>alert(1)</script>');

    const { email } = await inviteOne(admin, org.name);

    expect(email.body.html).not.toMatch(/<script/i);
    expect(email.body.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.subject).toBe(`<script>alert(1)</script> invited you to join ${org.name} on Jaqpot`);
  });

  it('CR/LF in the inviter name never reaches the subject (no header injection)', async () => {
    const { admin, org } = await orgOfAdmin('Eve\r\nBcc: victim@example.com\r\nX-Injected: yes');

    const { address, email } = await inviteOne(admin, org.name);

    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toMatch(/^Eve Bcc: victim@example\.com X-Injected: yes invited you to join /);
    expect(email.destination).toEqual({ to: [address], cc: [], bcc: [] });
    expect(email.headers ?? []).not.toContainEqual(expect.objectContaining({ name: 'X-Injected' }));
  });
});

describe('only verified identity names the inviter', () => {
  it('a token with no preferred_username and an unverified security@jaqpot.org email is named by no one', async () => {
    const admin = user('admin', { username: undefined, email: 'security@jaqpot.org', emailVerified: false });
    const org = await createOrganization(stack, admin);

    const { email } = await inviteOne(admin, org.name);

    expect(email.subject).toBe(`An admin of ${org.name} invited you to join ${org.name} on Jaqpot`);
    for (const part of [email.subject, email.body.text, email.body.html]) expect(part).not.toContain('security@jaqpot.org');
    expect(email.body.text).toContain(`because an admin of ${org.name} invited this address`);
  });

  it('a bidi override (U+202E) in the username does not reach the subject or the body', async () => {
    const { admin, org } = await orgOfAdmin('alice\u202Egro.topqaj@ytiruces');

    const { email } = await inviteOne(admin, org.name);

    expect(email.subject).toBe(`alicegro.topqaj@ytiruces invited you to join ${org.name} on Jaqpot`);
    for (const part of [email.subject, email.body.text, email.body.html]) expect(part).not.toMatch(/\p{Cf}/u);
  });

  it('zero-width characters in the username are removed', async () => {
    const { admin, org } = await orgOfAdmin('ad\u200bmi\u200dn\ufeff');

    const { email } = await inviteOne(admin, org.name);

    expect(email.subject).toBe(`admin invited you to join ${org.name} on Jaqpot`);
    for (const part of [email.subject, email.body.text, email.body.html]) expect(part).not.toMatch(/\p{Cf}/u);
  });
});

describe('no stray emails', () => {
  it('an invitation that is never resent gets no second email', async () => {
    const { admin, org } = await orgOfAdmin('alice');
    const { address, invitation } = await inviteOne(admin, org.name);
    await waitUntilSent(stack, org.id, invitation.id);
    // Other writes to the invitation's partition (another invitation) do not re-send it.
    await invite(stack, admin, org.name, [uniqueAddress()]);

    await expectExactlyEmails(stack.sesEndpoint, [address], 1, 2_000);
  });
});
