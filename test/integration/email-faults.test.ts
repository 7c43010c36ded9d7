/**
 * SES unavailable: the API still creates invitations (the email is only an outbox entry), the
 * stream's retries run out without losing or failing the invitation, and once SES is back the
 * sweep delivers the email.
 *
 * The stack's SES_ENDPOINT is a free port where nothing listens (connection refused) until a
 * test starts an SES emulator on that same port. The tests in this file run in order and share
 * one invitation.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getFreePort } from '../../local/dynamodb-local.ts';
import { startSesLocal, type SesLocal } from '../../local/ses-local.ts';
import { emailsTo, expectExactlyEmails, pollUntil, sleep, uniqueAddress, waitForStoredInvitation } from '../support/emails.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const sesPort = await getFreePort();
const SWEEP_AGE_SECONDS = 1;

const { stack, user } = useTestStack(
  {
    ...RELAXED_RATE_LIMITS,
    SES_ENDPOINT: `http://127.0.0.1:${sesPort}`,
    EMAIL_SWEEP_AGE_SECONDS: String(SWEEP_AGE_SECONDS),
  },
  { emailDelivery: true },
);

let revivedSes: SesLocal | undefined;
afterAll(async () => {
  await revivedSes?.stop();
});

/** What the local stream poller logs when a record exhausted its retries (its dead-letter queue). */
const deadLetterLog: string[] = [];
beforeAll(() => {
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    deadLetterLog.push(args.map(String).join(' '));
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

// The invitation created while SES is down, shared by the tests below (they run in order).
let admin: TestUser;
let org: { id: number; name: string };
let address: string;
let invitation: { id: string };

const stored = async () => (await storedInvitation(stack, org.id, invitation.id))!;

async function expectPendingAndIntact() {
  const item = await stored();
  expect(item).toMatchObject({
    id: invitation.id,
    userEmail: address,
    status: 'PENDING',
    emailStatus: 'PENDING',
    sendCount: 0,
    deliverySeq: 1,
    deliveredSeq: 0,
  });
  expect(item.lastError).toBeUndefined();
  expect(item.GSI2PK, 'in the pending-email index, for the sweep').toMatch(/^EMAIL#PENDING#\d+$/);
  const response = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
  expect(response.status, response.text).toBe(200);
  expect(response.body).toMatchObject({ status: 'PENDING', emailStatus: 'PENDING', sendCount: 0 });
  expect(response.body.lastSentAt).toBeUndefined();
}

describe('SES down, then back', () => {
  it('creating an invitation answers 201 quickly, with emailStatus PENDING', async () => {
    admin = user('alice');
    org = await createOrganization(stack, admin);
    address = uniqueAddress('outage');

    const started = Date.now();
    const response = await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [address] } });
    const elapsed = Date.now() - started;

    expect(response.status, response.text).toBe(201);
    expect(elapsed).toBeLessThan(1_000);
    expect(response.body.invitations).toHaveLength(1);
    invitation = response.body.invitations[0];
    expect(response.body.invitations[0]).toMatchObject({ userEmail: address, status: 'PENDING', emailStatus: 'PENDING', sendCount: 0 });
    await expectPendingAndIntact();
  });

  it('after the stream retries are exhausted, the invitation is still intact and PENDING', async () => {
    // The poller retries the record (200, 400, 800 ms apart), then dead-letters it.
    const log = await pollUntil(
      async () => deadLetterLog.filter((line) => /dead-lettered/.test(line)),
      (lines) => lines.length > 0,
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(log, 'the poller gave up on the record').toHaveLength(1);
    await sleep(500);

    await expectPendingAndIntact();
  });

  it('a sweep while SES is still down leaves it PENDING', async () => {
    const result = (await stack.events!.runSweep()) as Record<string, number>;

    expect(result).toMatchObject({ found: 1, sent: 0, failed: 0, stillUnavailable: 1 });
    await expectPendingAndIntact();
  });

  it('once SES is back, the sweep sends the email and the invitation becomes SENT', async () => {
    revivedSes = await startSesLocal({ port: sesPort });
    await sleep(SWEEP_AGE_SECONDS * 1000);

    const result = (await stack.events!.runSweep()) as Record<string, number>;

    expect(result).toMatchObject({ found: 1, sent: 1, failed: 0, skipped: 0, stillUnavailable: 0 });
    const [email] = await expectExactlyEmails(revivedSes.endpoint, [address], 1, 0);
    expect(email!.body.text).toContain(`/dashboard/organizations/${org.name}/invitations/${invitation.id}`);
    const item = await waitForStoredInvitation(stack, org.id, invitation.id, (i) => i.emailStatus === 'SENT');
    expect(item).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1, messageId: email!.messageId });
    expect(item.GSI2PK).toBeUndefined();

    const response = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(response.body).toMatchObject({ status: 'PENDING', emailStatus: 'SENT', sendCount: 1, lastSentAt: expect.any(String) });
  });

  it('a second sweep finds nothing left and sends nothing again', async () => {
    const result = (await stack.events!.runSweep()) as Record<string, number>;

    expect(result).toMatchObject({ found: 0, sent: 0 });
    await sleep(500);
    expect(await emailsTo(revivedSes!.endpoint, [address])).toHaveLength(1);
  });

  it('with SES back, new invitations are delivered by the stream again', async () => {
    const next = uniqueAddress('after-outage');
    await invite(stack, admin, org.name, [next]);

    await expectExactlyEmails(revivedSes!.endpoint, [next], 1, 500);
  });
});
