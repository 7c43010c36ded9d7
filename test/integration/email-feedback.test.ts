/**
 * SES bounces and complaints (configuration set → SNS → the feedback function) mark a delivered
 * invitation BOUNCED or COMPLAINED, so admins see which invitations never arrived. Invitations
 * are delivered for real (stream → delivery function → SES emulator) first; the feedback
 * function is then invoked with the SNS event SES would cause.
 */
import type { SNSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import {
  expectExactlyEmails,
  sesBounceEvent,
  sesComplaintEvent,
  sesDeliveryEvent,
  snsEvent,
  uniqueAddress,
  waitUntilSent,
  type SesEventTarget,
} from '../support/emails.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

type Handler = (event: SNSEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
let handler: Handler;
beforeAll(async () => {
  // After the stack set the function environment (TABLE_NAME, DYNAMODB_ENDPOINT).
  ({ handler } = (await import('../../functions/email-feedback.ts')) as unknown as { handler: Handler });
});
const notify = (event: SNSEvent) => handler(event, lambdaContext('emailFeedback'));

// ---------------------------------------------------------------------------------------------
// Helpers

interface Delivered {
  admin: TestUser;
  org: { id: number; name: string };
  /** The invitations, each delivered (SENT) with its SES message id. */
  targets: (SesEventTarget & { address: string })[];
}

/** An organization with `count` invitations whose emails were sent (emailStatus SENT, messageId stored). */
async function deliveredInvitations(count = 1): Promise<Delivered> {
  const admin = user('alice');
  const org = await createOrganization(stack, admin);
  const addresses = Array.from({ length: count }, () => uniqueAddress('feedback'));
  const { invitations } = await invite(stack, admin, org.name, addresses);
  const emails = await expectExactlyEmails(stack.sesEndpoint, addresses, count, 0);
  const targets = [];
  for (const invitation of invitations) {
    const item = await waitUntilSent(stack, org.id, invitation.id);
    const email = emails.find((e) => e.destination.to.includes(invitation.userEmail))!;
    // The stored message id is the one SES returned for this email: what notifications carry.
    expect(item.messageId).toBe(email.messageId);
    targets.push({
      messageId: item.messageId as string,
      recipient: invitation.userEmail,
      address: invitation.userEmail,
      orgId: org.id,
      invitationId: invitation.id,
    });
  }
  return { admin, org, targets };
}

async function getInvitation({ admin, org }: Delivered, invitationId: string) {
  const response = await stack.api.get(paths.invitation(org.name, invitationId), { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

async function listIdsByEmailStatus({ admin, org }: Delivered, emailStatus: string): Promise<string[]> {
  const response = await stack.api.get(`${paths.invitations(org.name)}?emailStatus=${emailStatus}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return (response.body as any[]).map((i) => i.id);
}

/** The invitation is exactly as delivery left it: SENT, no lastError. */
async function expectUnchanged(delivered: Delivered, target: SesEventTarget, sendCount = 1) {
  const item = (await storedInvitation(stack, target.orgId, target.invitationId))!;
  expect(item).toMatchObject({ emailStatus: 'SENT', sendCount });
  expect(item.lastError).toBeUndefined();
  expect(await getInvitation(delivered, target.invitationId)).toMatchObject({ emailStatus: 'SENT', sendCount });
}

// ---------------------------------------------------------------------------------------------

describe('a permanent bounce', () => {
  it('marks the invitation BOUNCED with a lastError; the BOUNCED filter lists it', async () => {
    const delivered = await deliveredInvitations(2);
    const [bounced, fine] = delivered.targets;

    await expect(notify(snsEvent(sesBounceEvent(bounced!)))).resolves.toBeUndefined();

    const body = await getInvitation(delivered, bounced!.invitationId);
    expect(body).toMatchObject({ status: 'PENDING', emailStatus: 'BOUNCED', sendCount: 1 });
    expect(body.lastError).toBe('The address bounced permanently (General).');
    expect(await listIdsByEmailStatus(delivered, 'BOUNCED')).toEqual([bounced!.invitationId]);
    expect(await listIdsByEmailStatus(delivered, 'SENT')).toEqual([fine!.invitationId]);
    await expectUnchanged(delivered, fine!);
  });

  it('names a plain-word bounce sub-type in lastError', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await notify(snsEvent(sesBounceEvent(target!, { bounceSubType: 'NoEmail' })));

    expect((await getInvitation(delivered, target!.invitationId)).lastError).toBe('The address bounced permanently (NoEmail).');
  });
});

describe('a complaint', () => {
  it('marks the invitation COMPLAINED with a lastError; the COMPLAINED filter lists it', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await notify(snsEvent(sesComplaintEvent(target!)));

    const body = await getInvitation(delivered, target!.invitationId);
    expect(body).toMatchObject({ emailStatus: 'COMPLAINED', sendCount: 1, lastError: 'The recipient marked the email as spam.' });
    expect(await listIdsByEmailStatus(delivered, 'COMPLAINED')).toEqual([target!.invitationId]);
    expect(await listIdsByEmailStatus(delivered, 'SENT')).toEqual([]);
  });
});

describe('notifications that change nothing', () => {
  it.each(['Transient', 'Undetermined'])('a %s bounce', async (bounceType) => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await notify(snsEvent(sesBounceEvent(target!, { bounceType, bounceSubType: 'MailboxFull' })));

    await expectUnchanged(delivered, target!);
    expect(await listIdsByEmailStatus(delivered, 'BOUNCED')).toEqual([]);
  });

  it('a delivery notification', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await notify(snsEvent(sesDeliveryEvent(target!)));

    await expectUnchanged(delivered, target!);
  });

  it('a bounce of an older message (before a resend) leaves the latest email’s state alone', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;
    const resent = await stack.api.post(paths.resend(delivered.org.id, target!.invitationId), { token: delivered.admin.token });
    expect(resent.status, resent.text).toBe(200);
    await expectExactlyEmails(stack.sesEndpoint, [target!.address], 2, 0);
    const latest = await waitUntilSent(stack, target!.orgId, target!.invitationId, 2);
    expect(latest.messageId).not.toBe(target!.messageId);

    await notify(snsEvent(sesBounceEvent(target!), sesComplaintEvent(target!))); // the first email's message id

    await expectUnchanged(delivered, target!, 2);
    // The latest message's bounce still counts.
    await notify(snsEvent(sesBounceEvent({ ...target!, messageId: latest.messageId, deliverySeq: 2 })));
    expect(await getInvitation(delivered, target!.invitationId)).toMatchObject({ emailStatus: 'BOUNCED', sendCount: 2 });
  });

  it('a bounce with a message id SES never sent for this invitation', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await notify(snsEvent(sesBounceEvent({ ...target!, messageId: `0100019${randomUUID()}-000000` })));

    await expectUnchanged(delivered, target!);
  });

  it('a bounce naming an invitation that does not exist creates nothing', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;
    const unknownId = randomUUID();

    await expect(notify(snsEvent(sesBounceEvent({ ...target!, invitationId: unknownId })))).resolves.toBeUndefined();

    expect(await storedInvitation(stack, target!.orgId, unknownId)).toBeUndefined();
    await expectUnchanged(delivered, target!);
  });

  it('malformed SNS messages are ignored without throwing, and do not stop the rest of the batch', async () => {
    const delivered = await deliveredInvitations(2);
    const [untouched, bounced] = delivered.targets;

    await expect(
      notify(
        snsEvent(
          'this is not JSON',
          '{"eventType":"Bounce","mail":{"messageId"',
          '',
          '{}',
          { eventType: 'Bounce', bounce: { bounceType: 'Permanent' } },
          { eventType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: { messageId: untouched!.messageId } },
          sesBounceEvent(bounced!),
        ),
      ),
    ).resolves.toBeUndefined();

    await expectUnchanged(delivered, untouched!);
    expect(await getInvitation(delivered, bounced!.invitationId)).toMatchObject({ emailStatus: 'BOUNCED' });
  });

  // Valid JSON, but not an object: whoever can publish to the topic can send it.
  it('a JSON null message is ignored without throwing', async () => {
    const delivered = await deliveredInvitations();
    const [target] = delivered.targets;

    await expect(notify(snsEvent('null', sesBounceEvent(target!)))).resolves.toBeUndefined();

    expect(await getInvitation(delivered, target!.invitationId)).toMatchObject({ emailStatus: 'BOUNCED' });
  });
});
