/**
 * An invitation answered before its email went out needs no email: it is recorded
 * emailStatus NOT_NEEDED and counted in EmailsNotNeeded, never as FAILED nor in the EmailsFailed
 * metric (whose alarm fires at 1 and means SES refused emails). One that EXPIRED before its email
 * went out is still FAILED and counted: the invitee was never told in time.
 *
 * The delivery and sweep handlers run here as Lambda runs them, fed a stream record of the
 * stored item (and the sweep its index), so the order (answer first, then delivery) is certain.
 * Metrics are disabled locally (POWERTOOLS_METRICS_DISABLED), so the EMF document each
 * invocation would publish is captured from the Powertools instance as it flushes.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { metrics } from '../../shared/observability.ts';
import { emailsTo, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack } from '../support/stack.ts';
import { expireInvitation, storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack();

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
let deliver: Handler<DynamoDBStreamEvent, DynamoDBBatchResponse>;
let sweep: Handler<unknown, unknown>;
let sequence = 100_000_000_000_000_000_000n;

/** The metric names of every EMF document published since the last reset. */
let published: string[][] = [];

beforeAll(async () => {
  // Handler modules read their environment at load: import them once the stack has set it.
  deliver = (await import('../../functions/deliver-invitation-emails.ts')).handler as any;
  sweep = (await import('../../functions/sweep-pending-emails.ts')).handler as any;
  const publish = metrics.publishStoredMetrics.bind(metrics);
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    if (metrics.hasStoredMetrics()) {
      const document = metrics.serializeMetrics();
      published.push(document._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name)));
    }
    return publish();
  });
});
afterEach(() => {
  published = [];
});

const publishedNames = () => published.flat();

async function answeredBeforeItsEmail() {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  const address = uniqueAddress('early');
  const invitee = user('invitee', { email: address });
  const { invitations } = await invite(stack, admin, org.name, [address]);
  const invitation = invitations[0];
  await answerInvitation(stack, invitee, org.name, invitation.id, 'ACCEPTED');
  return { admin, org, address, invitation };
}

async function listByEmailStatus(admin: TestUser, orgName: string, emailStatus: string) {
  const response = await stack.api.get(`${paths.invitations(orgName)}?emailStatus=${emailStatus}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return (response.body as any[]).map((i) => i.id);
}

async function expectNotNeeded(setup: Awaited<ReturnType<typeof answeredBeforeItsEmail>>) {
  const { admin, org, address, invitation } = setup;
  const item = await storedInvitation(stack, org.id, invitation.id);
  expect(item).toMatchObject({ status: 'ACCEPTED', emailStatus: 'NOT_NEEDED', deliveredSeq: 1, sendCount: 0 });
  expect(item).not.toHaveProperty('lastError');
  expect(item).not.toHaveProperty('GSI2PK');
  expect(await listByEmailStatus(admin, org.name, 'NOT_NEEDED')).toEqual([invitation.id]);
  expect(await listByEmailStatus(admin, org.name, 'FAILED')).toEqual([]);
  expect(publishedNames()).not.toContain('EmailsFailed');
  expect(publishedNames()).toContain('EmailsNotNeeded');
  expect(await emailsTo(stack.sesEndpoint, [address])).toEqual([]);
}

describe('an invitation answered before its email went out', () => {
  it('the stream delivery records NOT_NEEDED, sends nothing, and publishes no EmailsFailed', async () => {
    const setup = await answeredBeforeItsEmail();
    const item = await storedInvitation(stack, setup.org.id, setup.invitation.id);

    const result = await deliver({ Records: [streamRecordOf(item!, String(sequence++))] }, lambdaContext('deliverInvitationEmails'));

    expect(result).toEqual({ batchItemFailures: [] });
    await expectNotNeeded(setup);
  });

  it('the sweep does the same', async () => {
    const setup = await answeredBeforeItsEmail();
    // Pending for an hour: past the sweep age.
    const requestedAt = new Date(Date.now() - 3_600_000).toISOString();
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.invitation(setup.org.id, setup.invitation.id),
        UpdateExpression: 'SET GSI2SK = :at, emailRequestedAt = :at',
        ExpressionAttributeValues: { ':at': keys.pendingEmail(setup.invitation.id, requestedAt).GSI2SK },
      }),
    );

    const result = await sweep({}, lambdaContext('sweepPendingEmails'));

    expect(result).toMatchObject({ found: 1, notNeeded: 1, failed: 0, sent: 0 });
    await expectNotNeeded(setup);
  });
});

describe('an invitation that expired before its email went out', () => {
  it('is FAILED ("had expired") and counted in EmailsFailed: the invitee was never told in time', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const address = uniqueAddress('late');
    const { invitations } = await invite(stack, admin, org.name, [address]);
    await expireInvitation(stack, org.id, invitations[0].id);
    const item = await storedInvitation(stack, org.id, invitations[0].id);

    await deliver({ Records: [streamRecordOf(item!, String(sequence++))] }, lambdaContext('deliverInvitationEmails'));

    expect(await storedInvitation(stack, org.id, invitations[0].id)).toMatchObject({
      emailStatus: 'FAILED',
      lastError: 'Not sent: the invitation had expired.',
    });
    expect(publishedNames()).toContain('EmailsFailed');
    expect(publishedNames()).not.toContain('EmailsNotNeeded');
    expect(await emailsTo(stack.sesEndpoint, [address])).toEqual([]);
  });
});
