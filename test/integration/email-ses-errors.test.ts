/**
 * How delivery reacts to every shape of SES answer: the real SesMailer (its SESv2Client mocked
 * with aws-sdk-client-mock) and the real delivery store on DynamoDB Local. Invitations are
 * created through the API; no stream poller runs in this file, so deliveries happen only when a
 * test asks for them.
 */
import {
  AccountSuspendedException,
  MessageRejected,
  SendEmailCommand,
  SendingPausedException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { DynamoEmailDeliveryStore } from '../../shared/adapters/dynamodb/delivery-store.ts';
import { SesMailer } from '../../shared/adapters/ses/mailer.ts';
import { systemClock } from '../../shared/adapters/system.ts';
import { MailerError } from '../../shared/ports.ts';
import { deliverInvitationEmail, type DeliveryDeps } from '../../shared/services/email-delivery.ts';
import { sendLeaseMs } from '../../shared/wiring.ts';
import { LOCAL_FRONTEND_URL, LOCAL_SENDER, sesBounceEvent, snsEvent, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack();

const ses = mockClient(SESv2Client);
afterAll(() => ses.restore());

let deps: DeliveryDeps;
beforeAll(() => {
  deps = {
    store: new DynamoEmailDeliveryStore(createDocumentClient({ endpoint: process.env.DYNAMODB_ENDPOINT }), stack.tableName, 31_536_000),
    // The endpoint is never reached: every SendEmail goes to the mock.
    mailer: new SesMailer({ from: LOCAL_SENDER, endpoint: 'http://127.0.0.1:9' }),
    clock: systemClock,
    email: { frontendUrl: LOCAL_FRONTEND_URL, brandName: 'Jaqpot' },
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    sendLeaseMs: sendLeaseMs({ attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }),
  };
});

beforeEach(() => {
  ses.reset();
});

// ---------------------------------------------------------------------------------------------
// Helpers

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const tooManyRequests = () => new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta(429) });
/** SES v2 has no exception class for this name; the SDK raises it as a generic service error. */
const throttling = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', ...meta(400) });
const networkError = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });

const sendCalls = () => ses.commandCalls(SendEmailCommand);
const recipientsOfCalls = () => sendCalls().map((call) => call.args[0].input.Destination?.ToAddresses?.[0]);

/** A fresh organization with one invitation (emailStatus PENDING, deliverySeq 1) to a unique address. */
async function pendingInvitation() {
  const admin = user('alice');
  const org = await createOrganization(stack, admin);
  const address = uniqueAddress();
  const { invitations } = await invite(stack, admin, org.name, [address]);
  const invitation = invitations[0];
  return { admin, org, address, invitation, request: { orgId: org.id, invitationId: invitation.id, seq: 1 } };
}

const stored = async (request: { orgId: number; invitationId: string }) =>
  (await storedInvitation(stack, request.orgId, request.invitationId))!;

async function expectStillPending(request: { orgId: number; invitationId: string }) {
  expect(await stored(request)).toMatchObject({ emailStatus: 'PENDING', sendCount: 0, deliveredSeq: 0, deliverySeq: 1 });
  expect((await stored(request)).lastError).toBeUndefined();
}

async function expectFailed(
  request: { orgId: number; invitationId: string; seq: number },
  reason: string | RegExp,
  sendCount = 0,
) {
  const item = await stored(request);
  expect(item).toMatchObject({ emailStatus: 'FAILED', sendCount, deliveredSeq: request.seq });
  expect(item.lastError).toMatch(reason);
  expect(item.GSI2PK, 'no longer in the pending-email index').toBeUndefined();
}

/** The error `promise` rejected with; fails if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

// ---------------------------------------------------------------------------------------------

describe('deliverInvitationEmail: success', () => {
  it('sends one message to the invitee, tagged with the invitation, and records it', async () => {
    const { org, address, invitation, request } = await pendingInvitation();
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });

    const result = await deliverInvitationEmail(deps, request);

    expect(result).toEqual({ kind: 'sent', messageId: 'ses-message-1', recorded: true });
    expect(sendCalls()).toHaveLength(1);
    const input = sendCalls()[0]!.args[0].input;
    expect(input.FromEmailAddress).toBe(LOCAL_SENDER);
    expect(input.Destination).toEqual({ ToAddresses: [address] });
    expect(input.Content?.Simple?.Subject?.Data).toBe(`alice invited you to join ${org.name} on Jaqpot`);
    const link = `${LOCAL_FRONTEND_URL}/dashboard/organizations/${org.name}/invitations/${invitation.id}`;
    expect(input.Content?.Simple?.Body?.Html?.Data).toContain(link);
    expect(input.Content?.Simple?.Body?.Text?.Data).toContain(link);
    expect(input.EmailTags).toEqual(
      expect.arrayContaining([
        { Name: 'invitationId', Value: invitation.id },
        { Name: 'orgId', Value: String(org.id) },
        { Name: 'deliverySeq', Value: '1' },
      ]),
    );

    const item = await stored(request);
    expect(item).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1, messageId: 'ses-message-1' });
    expect(Date.parse(item.lastSentAt)).toBeGreaterThanOrEqual(Date.parse(item.createdAt));
    expect(item.GSI2PK, 'no longer in the pending-email index').toBeUndefined();
  });
});

describe('deliverInvitationEmail: throttling and transient errors are retried', () => {
  it('TooManyRequestsException twice, then success → SENT after 3 SES calls', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejectsOnce(tooManyRequests()).rejectsOnce(tooManyRequests()).resolves({ MessageId: 'after-throttle' });

    const result = await deliverInvitationEmail(deps, request);

    expect(result).toMatchObject({ kind: 'sent', messageId: 'after-throttle' });
    expect(sendCalls()).toHaveLength(3);
    expect(await stored(request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, messageId: 'after-throttle' });
  });

  it('ThrottlingException every time → a retryable MailerError after exactly 3 calls; still PENDING', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(throttling());

    const error = await rejectionOf(deliverInvitationEmail(deps, request));

    expect(error).toBeInstanceOf(MailerError);
    expect((error as MailerError).retryable).toBe(true);
    expect(sendCalls()).toHaveLength(3);
    await expectStillPending(request);
    expect((await stored(request)).GSI2PK, 'still in the pending-email index, for the sweep').toMatch(/^EMAIL#PENDING#\d+$/);
  });

  it('a network error (ECONNREFUSED) is retried: once, then success → SENT after 2 calls', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejectsOnce(networkError()).resolves({ MessageId: 'after-network-error' });

    const result = await deliverInvitationEmail(deps, request);

    expect(result).toMatchObject({ kind: 'sent', messageId: 'after-network-error' });
    expect(sendCalls()).toHaveLength(2);
    expect(await stored(request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1 });
  });

  it('a network error every time → a retryable MailerError after 3 calls; still PENDING', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(networkError());

    const error = await rejectionOf(deliverInvitationEmail(deps, request));

    expect(error).toBeInstanceOf(MailerError);
    expect((error as MailerError).retryable).toBe(true);
    expect(sendCalls()).toHaveLength(3);
    await expectStillPending(request);
  });
});

describe('deliverInvitationEmail: permanent errors fail at once', () => {
  it.each([
    ['MessageRejected', () => new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }), /rejected/i],
    ['AccountSuspendedException', () => new AccountSuspendedException({ message: 'suspended', ...meta(400) }), /suspended/i],
    ['SendingPausedException', () => new SendingPausedException({ message: 'paused', ...meta(400) }), /paused/i],
    [
      'MessageRejected (suppression list)',
      () => new MessageRejected({ message: 'Email address is on the suppression list for your account.', ...meta(400) }),
      /suppression list/i,
    ],
  ])('%s → FAILED with lastError, after exactly 1 SES call', async (_, error, reason) => {
    const { org, invitation, admin, request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(error());

    const result = await deliverInvitationEmail(deps, request);

    expect(result).toEqual({ kind: 'failed', reason: expect.stringMatching(reason) });
    expect(sendCalls()).toHaveLength(1);
    await expectFailed(request, reason);
    // What the admin sees.
    const response = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(response.body).toMatchObject({ emailStatus: 'FAILED', sendCount: 0, lastError: expect.stringMatching(reason) });
    expect(response.body.lastSentAt).toBeUndefined();
  });

  it('the suppression reason differs from the generic rejection', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Address is suppressed.', ...meta(400) }));

    await deliverInvitationEmail(deps, request);

    const item = await stored(request);
    expect(item.lastError).toBe('The recipient is on the SES account suppression list.');
  });
});

describe('deliverInvitationEmail: exactly once per email request', () => {
  it('replaying the same request after a success sends nothing (skipped); 1 SES call in total', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).resolves({ MessageId: 'only-once' });

    const first = await deliverInvitationEmail(deps, request);
    const replay = await deliverInvitationEmail(deps, request);

    expect(first).toMatchObject({ kind: 'sent', recorded: true });
    expect(replay).toMatchObject({ kind: 'skipped' });
    expect(sendCalls()).toHaveLength(1);
    expect(await stored(request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1, messageId: 'only-once' });
  });

  it('replaying a request recorded as FAILED sends nothing', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(new SendingPausedException({ message: 'paused', ...meta(400) }));

    await deliverInvitationEmail(deps, request);
    const replay = await deliverInvitationEmail(deps, request);

    expect(replay).toMatchObject({ kind: 'skipped' });
    expect(sendCalls()).toHaveLength(1);
  });

  it('a resend that overtakes an unsent email supersedes it: one email, for the latest request', async () => {
    const { admin, org, invitation, request } = await pendingInvitation();
    const resent = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body.emailStatus).toBe('PENDING');
    ses.on(SendEmailCommand).resolves({ MessageId: 'latest' });

    const stale = await deliverInvitationEmail(deps, request); // seq 1
    const latest = await deliverInvitationEmail(deps, { ...request, seq: 2 });

    expect(stale).toMatchObject({ kind: 'skipped' });
    expect(latest).toMatchObject({ kind: 'sent', messageId: 'latest' });
    expect(sendCalls()).toHaveLength(1);
    expect(await stored(request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliverySeq: 2, deliveredSeq: 2 });
  });
});

describe('bounce feedback about an earlier email', () => {
  // emailStatus is the state of the invitation's latest email request (openapi.yaml,
  // EmailDeliveryStatus); feedback counts only "if the notification is about its latest message".
  it('a late bounce of the first email does not overwrite the FAILED state of the resend', async () => {
    const { admin, org, address, invitation, request } = await pendingInvitation();
    ses
      .on(SendEmailCommand)
      .resolvesOnce({ MessageId: 'first-email' })
      .rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }));
    expect(await deliverInvitationEmail(deps, request)).toMatchObject({ kind: 'sent', messageId: 'first-email' });
    const resent = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resent.status, resent.text).toBe(200);
    expect(await deliverInvitationEmail(deps, { ...request, seq: 2 })).toMatchObject({ kind: 'failed' });
    await expectFailed({ ...request, seq: 2 }, /rejected/i, 1);

    const { handler: feedback } = (await import('../../functions/email-feedback.ts')) as unknown as {
      handler: (event: SNSEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
    };
    const firstEmail = { messageId: 'first-email', recipient: address, orgId: org.id, invitationId: invitation.id, deliverySeq: 1 };
    await feedback(snsEvent(sesBounceEvent(firstEmail)), lambdaContext('emailFeedback'));

    const item = await stored(request);
    expect(item.emailStatus, 'the latest request (the resend) failed; the bounce is about the first email').toBe('FAILED');
    expect(item.lastError).toMatch(/rejected/i);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the delivery function (stream handler)', () => {
  type Handler = (event: DynamoDBStreamEvent, context: ReturnType<typeof lambdaContext>) => Promise<DynamoDBBatchResponse>;
  let handler: Handler;
  beforeAll(async () => {
    // After the stack set the function environment (TABLE_NAME, SES_ENDPOINT, ...).
    ({ handler } = (await import('../../functions/deliver-invitation-emails.ts')) as unknown as { handler: Handler });
  });
  const invoke = (event: DynamoDBStreamEvent) => handler(event, lambdaContext('deliverInvitationEmails'));

  /** A stream record for the invitation as stored now (an INSERT with emailStatus PENDING). */
  async function recordFor(request: { orgId: number; invitationId: string }, sequenceNumber: string) {
    return streamRecordOf(await stored(request), sequenceNumber);
  }

  it('the same batch delivered twice sends exactly one email', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).resolves({ MessageId: 'batch-once' });
    const event = { Records: [await recordFor(request, '100000000000000000001')] };

    const first = await invoke(event);
    const second = await invoke(event);

    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(sendCalls()).toHaveLength(1);
    expect(await stored(request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, messageId: 'batch-once' });
  });

  it('reports exactly the record SES could not take as a batch item failure; the one before it stays sent', async () => {
    const one = await pendingInvitation();
    const two = await pendingInvitation();
    const event = {
      Records: [await recordFor(one.request, '200000000000000000001'), await recordFor(two.request, '200000000000000000002')],
    };
    // By recipient, not by call order: the function sends a batch's records concurrently.
    ses.on(SendEmailCommand).resolves({ MessageId: 'first-of-batch' });
    ses.on(SendEmailCommand, { Destination: { ToAddresses: [two.address] } }).rejects(throttling());

    const response = await invoke(event);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '200000000000000000002' }] });
    expect(recipientsOfCalls().filter((to) => to === one.address)).toHaveLength(1);
    expect(recipientsOfCalls().filter((to) => to !== one.address).every((to) => to === two.address)).toBe(true);
    expect(await stored(one.request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, messageId: 'first-of-batch' });
    await expectStillPending(two.request);
  });

  it('the retried batch (from the failed record) sends the rest and nothing twice', async () => {
    const one = await pendingInvitation();
    const two = await pendingInvitation();
    const records = [await recordFor(one.request, '300000000000000000001'), await recordFor(two.request, '300000000000000000002')];
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-one' });
    ses.on(SendEmailCommand, { Destination: { ToAddresses: [two.address] } }).rejects(throttling());
    const firstAttempt = await invoke({ Records: records });
    expect(firstAttempt.batchItemFailures).toEqual([{ itemIdentifier: '300000000000000000002' }]);

    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-two' });
    // Lambda retries the whole batch from the failed record on; here the whole batch, to be strict.
    const retry = await invoke({ Records: records });

    expect(retry).toEqual({ batchItemFailures: [] });
    expect(recipientsOfCalls()).toEqual([two.address]);
    expect(await stored(one.request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, messageId: 'm-one' });
    expect(await stored(two.request)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, messageId: 'm-two' });
  });

  it('a permanent error is recorded, not reported as a failure (no retry of that record)', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }));

    const response = await invoke({ Records: [await recordFor(request, '400000000000000000001')] });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sendCalls()).toHaveLength(1);
    await expectFailed(request, /rejected/i);
  });

  it('ignores records that are not a pending email request', async () => {
    const { request } = await pendingInvitation();
    ses.on(SendEmailCommand).resolves({ MessageId: 'unused' });
    const item = await stored(request);

    const response = await invoke({
      Records: [
        streamRecordOf({ ...item, emailStatus: 'SENT' }, '500000000000000000001', 'MODIFY'),
        streamRecordOf({ PK: item.PK, SK: 'GUARD#x@example.com', type: 'PendingInvitationGuard', invitationId: item.id }, '500000000000000000002'),
      ],
    });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sendCalls()).toHaveLength(0);
    await expectStillPending(request);
  });
});
