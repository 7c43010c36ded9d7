/**
 * The send claim: only one delivery of an email request sends, however the stream and the sweep
 * (or two stream deliveries) race; a claimer that dies leaves the email to the sweep once its
 * lease ends; one that meets SES down releases its claim so the next try sends at once.
 *
 * The real stream handler and the real sweep, on DynamoDB Local and the SES emulator. No stream
 * poller runs in this file: deliveries happen only when a test asks for them, and the races are
 * made deterministic (test/support/interleave.ts).
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../../local/dynamodb-local.ts';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { SesMailer } from '../../shared/adapters/ses/mailer.ts';
import { MailerError } from '../../shared/ports.ts';
import { deliverInvitationEmail, sweepPendingEmails, type DeliveryDeps } from '../../shared/services/email-delivery.ts';
import { createDeliveryDependencies } from '../../shared/wiring.ts';
import { emailsTo, LOCAL_SENDER, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { dynamoErrors, injectDynamoDbFaults, injectWireFaults } from '../support/dynamodb-faults.ts';
import { beforeFirstEmailTo, type Interleaving } from '../support/interleave.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS);

type Handler = (event: DynamoDBStreamEvent, context: ReturnType<typeof lambdaContext>) => Promise<DynamoDBBatchResponse>;
let streamHandler: Handler;
/** The sweep's dependencies, as its function wires them (SES: the emulator). */
let deps: DeliveryDeps;
beforeAll(async () => {
  // After the stack set the function environment (TABLE_NAME, SES_ENDPOINT, ...).
  ({ handler: streamHandler } = (await import('../../functions/deliver-invitation-emails.ts')) as unknown as { handler: Handler });
  deps = createDeliveryDependencies();
});

let interleaving: Interleaving | undefined;
afterEach(() => {
  interleaving?.restore();
  interleaving = undefined;
});

let nextSequenceNumber = 100000000000000000000n;
/** The stream delivering `item` (as stored at some moment) to the delivery function. */
const deliverFromStream = (item: Record<string, any>, eventName: 'INSERT' | 'MODIFY' = 'INSERT') =>
  streamHandler({ Records: [streamRecordOf(item, String(nextSequenceNumber++), eventName)] }, lambdaContext('deliverInvitationEmails'));

/** The sweep, re-driving every email pending at all (this file's table holds only its own). */
const sweep = (sweepDeps: DeliveryDeps = deps) => sweepPendingEmails(sweepDeps, 0, 100);

/** A fresh invitation whose email is requested (PENDING, deliverySeq 1) and not yet delivered. */
async function pendingInvitation(address = uniqueAddress('claim')) {
  const admin = user('alice');
  const org = await createOrganization(stack, admin);
  const { invitations } = await invite(stack, admin, org.name, [address]);
  const request = { orgId: org.id, invitationId: invitations[0].id, seq: 1 };
  const stored = async () => (await storedInvitation(stack, org.id, request.invitationId))!;
  return { admin, org, address, request, stored, created: await stored() };
}

/** Deliveries through these die after claiming, before SES took the email (a crash has no emulator). */
const dyingDeps = (): DeliveryDeps => ({
  ...deps,
  mailer: {
    send: async () => {
      throw new Error('the claimer died');
    },
  },
});

const CLAIM_ATTRIBUTES = ['sendClaimSeq', 'sendClaimId', 'sendClaimUntil'];

async function expectSentOnce(address: string, stored: () => Promise<Record<string, any>>) {
  const emails = await emailsTo(stack.sesEndpoint, [address]);
  expect(emails, 'emails in the SES emulator').toHaveLength(1);
  const item = await stored();
  expect(item).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliveredSeq: 1, messageId: emails[0]!.messageId });
  for (const attribute of CLAIM_ATTRIBUTES) expect(item[attribute], `${attribute} removed with the outcome`).toBeUndefined();
  expect(item.GSI2PK, 'out of the pending-email index').toBeUndefined();
}

describe('two deliveries of one email request racing send one email', () => {
  it('the sweep runs after a stream delivery read the invitation PENDING and just before it sends: one email, one SENT', async () => {
    const { address, stored, created } = await pendingInvitation();
    let sweepResult: Awaited<ReturnType<typeof sweep>> | undefined;
    let sweepSaw: Record<string, any> | undefined;
    interleaving = beforeFirstEmailTo(address, async () => {
      sweepSaw = await stored();
      sweepResult = await sweep();
    });

    const response = await deliverFromStream(created);

    expect(interleaving.ran(), 'the sweep ran before the stream delivery sent').toBe(true);
    expect(sweepSaw, 'nothing recorded yet when the sweep started').toMatchObject({ emailStatus: 'PENDING', deliveredSeq: 0 });
    await expectSentOnce(address, stored);
    expect(sweepResult).toEqual({ found: 1, sent: 0, failed: 0, notNeeded: 0, skipped: 1, stillUnavailable: 0 });
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('a second stream delivery of the same record (a concurrent replay) meets the first one before it sends: one email', async () => {
    const { address, stored, created } = await pendingInvitation();
    let second: DynamoDBBatchResponse | undefined;
    interleaving = beforeFirstEmailTo(address, async () => {
      second = await deliverFromStream(created);
    });

    const first = await deliverFromStream(created);

    expect(interleaving.ran()).toBe(true);
    expect(second, 'the loser is not a batch failure: the claimer records the outcome').toEqual({ batchItemFailures: [] });
    expect(first).toEqual({ batchItemFailures: [] });
    await expectSentOnce(address, stored);
  });
});

describe('a claimer that dies', () => {
  it('leaves the email to the sweep once its lease has ended, not before; nothing is lost', async () => {
    const { address, request, stored, created } = await pendingInvitation();
    await expect(deliverInvitationEmail(dyingDeps(), request)).rejects.toThrow('the claimer died');
    const claimed = await stored();
    expect(claimed).toMatchObject({ emailStatus: 'PENDING', deliveredSeq: 0, sendClaimSeq: 1 });
    expect(claimed.sendClaimUntil).toBeGreaterThan(Date.now());
    expect(claimed.GSI2PK, 'still in the pending-email index, for the sweep').toMatch(/^EMAIL#PENDING#\d+$/);

    // While the lease lasts: neither the sweep nor a stream retry sends, and neither fails.
    expect(await sweep()).toMatchObject({ found: 1, sent: 0, skipped: 1 });
    expect(await deliverFromStream(created)).toEqual({ batchItemFailures: [] });
    // The claim's own write on the stream is not taken for a new email request.
    expect(await deliverFromStream(claimed, 'MODIFY')).toEqual({ batchItemFailures: [] });
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(0);
    expect(await stored()).toMatchObject({ emailStatus: 'PENDING', sendClaimId: claimed.sendClaimId });

    // Just before the lease ends: still held.
    const justBefore = claimed.sendClaimUntil - 1;
    expect(await sweep({ ...deps, clock: { nowMs: () => justBefore } })).toMatchObject({ found: 1, sent: 0, skipped: 1 });
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(0);

    // Once it has ended, the sweep sends it.
    const ended = claimed.sendClaimUntil;
    expect(await sweep({ ...deps, clock: { nowMs: () => ended } })).toMatchObject({ found: 1, sent: 1, skipped: 0 });
    await expectSentOnce(address, stored);
  });
});

describe('the claim is storage only', () => {
  it('shows in no response: admin and invitee views, lists, the audit trail', async () => {
    const invitee = user('invitee');
    const { admin, org, request, stored } = await pendingInvitation(invitee.email);
    await expect(deliverInvitationEmail(dyingDeps(), request)).rejects.toThrow('the claimer died');
    expect((await stored()).sendClaimSeq, 'a claim is held').toBe(1);

    const responses = [
      await stack.api.get(paths.invitation(org.name, request.invitationId), { token: admin.token }),
      await stack.api.get(paths.invitations(org.name), { token: admin.token }),
      await stack.api.get(`${paths.invitation(org.name, request.invitationId)}/events`, { token: admin.token }),
      await stack.api.get(paths.invitation(org.name, request.invitationId), { token: invitee.token }),
      await stack.api.get('/v1/user/invitations', { token: invitee.token }),
    ];
    for (const response of responses) {
      expect(response.status, response.text).toBe(200);
      expect(response.text).toContain(request.invitationId);
      expect(response.text).not.toMatch(/sendClaim/i);
    }

    // Delivered once the lease ended; its invitation.email.sent event carries no claim either.
    const afterLease = (await stored()).sendClaimUntil;
    expect(await sweep({ ...deps, clock: { nowMs: () => afterLease } })).toMatchObject({ found: 1, sent: 1 });
    const trail = await stack.api.get(`${paths.invitation(org.name, request.invitationId)}/events`, { token: admin.token });
    expect(trail.text).toContain('invitation.email.sent');
    expect(trail.text).not.toMatch(/sendClaim/i);
  });
});

describe('SES unavailable', () => {
  it('the claimer releases its claim: the stream retry sends at once, exactly one email', async () => {
    const { address, request, stored, created } = await pendingInvitation();
    const down: DeliveryDeps = {
      ...deps,
      mailer: new SesMailer({ from: LOCAL_SENDER, endpoint: `http://127.0.0.1:${await getFreePort()}` }),
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    };

    const error = await deliverInvitationEmail(down, request).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MailerError);
    expect((error as MailerError).retryable).toBe(true);
    const released = await stored();
    expect(released).toMatchObject({ emailStatus: 'PENDING', deliveredSeq: 0, sendClaimSeq: 1, sendClaimUntil: 0 });
    expect(released.GSI2PK).toMatch(/^EMAIL#PENDING#\d+$/);
    // The release's own write on the stream starts nothing (no loop while SES is down).
    expect(await deliverFromStream(released, 'MODIFY')).toEqual({ batchItemFailures: [] });
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(0);

    // Lambda retries the original record, well within what would have been the lease.
    expect(await deliverFromStream(created)).toEqual({ batchItemFailures: [] });
    await expectSentOnce(address, stored);
    // The sweep finds nothing left.
    expect(await sweep()).toMatchObject({ found: 0, sent: 0 });
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(1);
  });

  it('through the sweep too: a sweep while SES is down leaves it released, the next one sends it', async () => {
    const { address, stored } = await pendingInvitation();
    const down: DeliveryDeps = {
      ...deps,
      mailer: new SesMailer({ from: LOCAL_SENDER, endpoint: `http://127.0.0.1:${await getFreePort()}` }),
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    };

    expect(await sweep(down)).toMatchObject({ found: 1, sent: 0, stillUnavailable: 1 });
    expect(await stored()).toMatchObject({ emailStatus: 'PENDING', sendClaimUntil: 0 });

    expect(await sweep()).toMatchObject({ found: 1, sent: 1 });
    await expectSentOnce(address, stored);
  });
});

describe('DynamoDB failing around the send', () => {
  const transactionsFail = (times?: number) =>
    injectDynamoDbFaults([{ commands: ['TransactWriteItemsCommand'], error: dynamoErrors.internalServerError, times }], { ignore: [stack.db] });

  it('the outcome write fails after SES took the email: it is retried within the lease; one email, SENT once, nothing left for the sweep', async () => {
    const { address, request, stored } = await pendingInvitation();
    const faults = transactionsFail(2);

    const result = await deliverInvitationEmail(deps, request).finally(() => faults.restore());

    expect(result).toMatchObject({ kind: 'sent', recorded: true });
    expect(faults.callsOf('TransactWriteItemsCommand').map((call) => call.failed)).toEqual([true, true, false]);
    await expectSentOnce(address, stored);
    const afterLease = Date.now() + deps.sendLeaseMs;
    expect(await sweep({ ...deps, clock: { nowMs: () => afterLease } })).toMatchObject({ found: 0, sent: 0 });
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(1);
  });

  it('an outcome write that keeps failing is retried until the lease ends, then gives up; the claim stays', async () => {
    const { address, request, stored } = await pendingInvitation();
    const leaseMs = 1_500;
    const faults = transactionsFail();
    const started = Date.now();

    const error = await deliverInvitationEmail({ ...deps, sendLeaseMs: leaseMs }, request)
      .catch((e: unknown) => e)
      .finally(() => faults.restore());

    const tookMs = Date.now() - started;
    expect((error as { kind?: string }).kind).toBe('UNAVAILABLE');
    expect(faults.callsOf('TransactWriteItemsCommand').length, 'retried').toBeGreaterThan(2);
    // The lease starts at the claim, after `started`: giving up before it ended would be sooner.
    expect(tookMs).toBeGreaterThanOrEqual(leaseMs);
    expect(tookMs).toBeLessThan(leaseMs + 2_000);
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(1);
    // The documented duplicate: the sweep sends again once the lease is over.
    expect(await stored()).toMatchObject({ emailStatus: 'PENDING', sendClaimSeq: 1 });
  });

  it("the claim's write lands but its answer is lost: the SDK's retry finds its own claim and sends at once", async () => {
    const { address, request, stored } = await pendingInvitation();
    const wire = await injectWireFaults([{ operations: ['UpdateItem'], fault: { kind: 'lostResponse' }, times: 1 }], { ignore: [stack.db] });

    const result = await deliverInvitationEmail(deps, request).finally(() => wire.restore());

    expect(wire.attemptsOf('UpdateItem').map((attempt) => attempt.failed)).toEqual([true, false]);
    expect(result).toMatchObject({ kind: 'sent', recorded: true });
    await expectSentOnce(address, stored);
  });

  it('the claim write lands but the caller sees it fail: the claim is released, so the retry of the request sends at once, not after the lease', async () => {
    const { address, request, stored, created } = await pendingInvitation();
    const faults = injectDynamoDbFaults(
      [
        {
          commands: ['UpdateItemCommand'],
          where: (input) => String(input.UpdateExpression).startsWith('SET sendClaimSeq'),
          error: dynamoErrors.connectionReset,
          afterApplying: true,
          times: 1,
        },
      ],
      { ignore: [stack.db] },
    );

    const error = await deliverInvitationEmail(deps, request)
      .catch((e: unknown) => e)
      .finally(() => faults.restore());

    expect((error as { kind?: string }).kind).toBe('UNAVAILABLE');
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(0);
    expect(await stored(), 'the claim landed, and was released').toMatchObject({ emailStatus: 'PENDING', sendClaimSeq: 1, sendClaimUntil: 0 });
    // The stream's retry of the request delivers now.
    expect(await deliverFromStream(created)).toEqual({ batchItemFailures: [] });
    await expectSentOnce(address, stored);
  });
});
