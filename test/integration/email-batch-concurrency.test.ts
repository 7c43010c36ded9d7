/**
 * The delivery function delivers a batch's records concurrently: the batch item failure is still
 * the earliest record (in stream order) that failed, the records after it that went out are
 * replayed harmlessly (nothing sent twice), and two records of one invitation in a batch (a
 * create, then its resend) send one email for the newer request.
 *
 * The real stream handler on DynamoDB Local and the SES emulator; no stream poller runs in this
 * file. SES refusing one recipient (throttling) is a spy on the SES client's `send`: the emulator
 * cannot fail one request of many.
 */
import { SESv2Client, TooManyRequestsException, type SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { emailsTo, sleep, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS);

type Handler = (event: DynamoDBStreamEvent, context: ReturnType<typeof lambdaContext>) => Promise<DynamoDBBatchResponse>;
let handler: Handler;
beforeAll(async () => {
  // After the stack set the function environment (TABLE_NAME, SES_ENDPOINT, ...).
  ({ handler } = (await import('../../functions/deliver-invitation-emails.ts')) as unknown as { handler: Handler });
});
afterEach(() => vi.restoreAllMocks());

/** SES throttles every send to `refused`; the others go to the emulator, 100 ms each; the most in flight at once. */
function sesRefusing(refused: Set<string>) {
  const send = SESv2Client.prototype.send;
  let inFlight = 0;
  let peak = 0;
  vi.spyOn(SESv2Client.prototype, 'send').mockImplementation(async function (this: SESv2Client, command: SendEmailCommand) {
    const to = command.input.Destination?.ToAddresses?.[0] ?? '';
    if (refused.has(to)) throw new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } });
    peak = Math.max(peak, ++inFlight);
    try {
      await sleep(100);
      return await (send as (c: SendEmailCommand) => Promise<unknown>).call(this, command);
    } finally {
      inFlight--;
    }
  } as never);
  return { peak: () => peak };
}

/** `count` new invitations of one organization, and their stream records (sequence numbers 1000, 1001, ...). */
async function pendingInvitations(count: number) {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  const addresses = Array.from({ length: count }, () => uniqueAddress('batch'));
  const { invitations } = await invite(stack, admin, org.name, addresses);
  const byAddress = new Map(invitations.map((invitation) => [invitation.userEmail as string, invitation.id as string]));
  const ids = addresses.map((address) => byAddress.get(address)!);
  const records = await Promise.all(ids.map(async (id, i) => streamRecordOf((await storedInvitation(stack, org.id, id))!, String(1000 + i))));
  return { admin, org, addresses, ids, records };
}

it('one record failing in the middle: the earliest failure is reported, the others go out at once, and the retry from it sends every email exactly once', async () => {
  const { org, addresses, ids, records } = await pendingInvitations(6);
  const ses = sesRefusing(new Set([addresses[2]!, addresses[4]!]));

  const first = await handler({ Records: records }, lambdaContext('deliverInvitationEmails'));

  expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: '1002' }] });
  expect(ses.peak(), 'sends in flight at once').toBeGreaterThan(1);
  const statuses = await Promise.all(ids.map(async (id) => (await storedInvitation(stack, org.id, id))!.emailStatus));
  expect(statuses).toEqual(['SENT', 'SENT', 'PENDING', 'SENT', 'PENDING', 'SENT']);

  // SES is back; Lambda retries from the reported record: the ones after it that went out are replayed.
  vi.restoreAllMocks();
  const retry = await handler({ Records: records.slice(2) }, lambdaContext('deliverInvitationEmails'));

  expect(retry).toEqual({ batchItemFailures: [] });
  for (const [i, address] of addresses.entries()) {
    const emails = await emailsTo(stack.sesEndpoint, [address]);
    expect(emails, address).toHaveLength(1);
    expect(await storedInvitation(stack, org.id, ids[i]!)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1, messageId: emails[0]!.messageId });
  }
});

it('a create and its resend in one batch, delivered together: one email, for the resend', async () => {
  const { admin, org, addresses, ids, records } = await pendingInvitations(2);
  const resent = await stack.api.post(paths.resend(org.id, ids[0]!), { token: admin.token });
  expect(resent.status, resent.text).toBe(200);
  const resendRecord = streamRecordOf((await storedInvitation(stack, org.id, ids[0]!))!, '1005', 'MODIFY');

  const result = await handler({ Records: [records[0]!, records[1]!, resendRecord] }, lambdaContext('deliverInvitationEmails'));

  expect(result).toEqual({ batchItemFailures: [] });
  const emails = await emailsTo(stack.sesEndpoint, [addresses[0]!]);
  expect(emails).toHaveLength(1);
  expect(await storedInvitation(stack, org.id, ids[0]!)).toMatchObject({ emailStatus: 'SENT', deliverySeq: 2, deliveredSeq: 2, sendCount: 1, messageId: emails[0]!.messageId });
  expect(await emailsTo(stack.sesEndpoint, [addresses[1]!])).toHaveLength(1);
});

it('the same record twice in one batch (a replay overlapping the original): one email', async () => {
  const { org, addresses, ids, records } = await pendingInvitations(1);
  const replay = { ...records[0]!, dynamodb: { ...records[0]!.dynamodb, SequenceNumber: '1001' } };

  const result = await handler({ Records: [records[0]!, replay] }, lambdaContext('deliverInvitationEmails'));

  expect(result).toEqual({ batchItemFailures: [] });
  expect(await emailsTo(stack.sesEndpoint, addresses)).toHaveLength(1);
  expect(await storedInvitation(stack, org.id, ids[0]!)).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1 });
});
