/**
 * Every change is an event, recorded with the change; the audit trail (GET …/events) tells an
 * invitation's whole story to its organization's admins. No stream poller runs in this file:
 * the delivery and feedback functions are invoked with the records AWS would hand them, so each
 * test decides exactly when (and how often) a delivery happens.
 */
import type { DynamoDBStreamEvent, SNSEvent } from 'aws-lambda';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { sesBounceEvent, sesComplaintEvent, snsEvent, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { addMember, answerInvitation, createOrganization, invite, orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { expireInvitation, storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS);

type DeliverHandler = (event: DynamoDBStreamEvent, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
type FeedbackHandler = (event: SNSEvent, context: unknown) => Promise<unknown>;
let deliverHandler: DeliverHandler;
let feedbackHandler: FeedbackHandler;
beforeAll(async () => {
  // After the stack set the functions' environment.
  deliverHandler = ((await import('../../functions/deliver-invitation-emails.ts')) as any).handler;
  feedbackHandler = ((await import('../../functions/email-feedback.ts')) as any).handler;
});

const eventsPath = (orgName: string, invitationId: string) => `${paths.invitation(orgName, invitationId)}/events`;

let sequence = 1_000;
/** The stream record of the invitation as stored now (as the stream would deliver it). */
async function recordOf(orgId: number, invitationId: string) {
  return streamRecordOf((await storedInvitation(stack, orgId, invitationId))!, String(sequence++), 'MODIFY');
}

async function deliver(record: Awaited<ReturnType<typeof recordOf>>) {
  const result = await deliverHandler({ Records: [record] }, lambdaContext('deliverInvitationEmails'));
  expect(result.batchItemFailures).toEqual([]);
}

async function eventsOf(admin: TestUser, orgName: string, invitationId: string, query = '') {
  const response = await stack.api.get(`${eventsPath(orgName, invitationId)}${query}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body as any[];
}

const typesOf = (events: { type: string }[]) => events.map((event) => event.type);

/** Events no invitation caused, in the member's own partition (read directly: no route lists them). */
async function memberEventsOf(orgId: number, userId: string) {
  const { Items } = await stack.db.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.memberEvents(orgId, userId) },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('the whole story of an invitation, oldest first', () => {
  it('created, email sent, resent, email sent, accepted, member added; a replayed stream record adds nothing', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);

    const firstRecord = await recordOf(org.id, invitation.id);
    await deliver(firstRecord);
    // The same record again (Lambda retries and replays): its outcome is already recorded.
    await deliver(firstRecord);
    expect(typesOf(await eventsOf(admin, org.name, invitation.id))).toEqual(['invitation.created', 'invitation.email.sent']);

    const resend = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resend.status, resend.text).toBe(200);
    const secondRecord = await recordOf(org.id, invitation.id);
    await deliver(secondRecord);
    await deliver(secondRecord);
    await deliver(firstRecord);
    await answerInvitation(stack, invitee, org.name, invitation.id, 'ACCEPTED');

    const events = await eventsOf(admin, org.name, invitation.id);
    expect(typesOf(events)).toEqual([
      'invitation.created',
      'invitation.email.sent',
      'invitation.resent',
      'invitation.email.sent',
      'invitation.accepted',
      'organization.member.added',
    ]);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const times = events.map((event) => event.time);
    expect([...times].sort()).toEqual(times);
    for (const event of events) {
      expect(event).toMatchObject({ orgId: org.id, orgName: org.name, invitationId: invitation.id });
      expect(Object.keys(event).sort()).toEqual(['actor', 'changes', 'id', 'invitationId', 'orgId', 'orgName', 'time', 'type']);
    }
    const stored = (await storedInvitation(stack, org.id, invitation.id))!;
    const [created, sent1, resent, sent2, accepted, added] = events;
    expect(created).toMatchObject({
      id: `invitation/${invitation.id}/invitation.created`,
      actor: admin.sub,
      changes: { email: invitee.email, associationType: 'MEMBER', expiresAt: expect.any(Number), emailStatus: 'PENDING' },
    });
    expect(sent1).toMatchObject({ id: `invitation/${invitation.id}/invitation.email.sent/1`, actor: 'system', changes: { deliverySeq: 1, messageId: expect.any(String) } });
    expect(resent).toMatchObject({ actor: admin.sub, changes: { deliverySeq: 2, expiresAt: stored.expiresAt } });
    expect(sent2).toMatchObject({ actor: 'system', changes: { deliverySeq: 2, messageId: stored.messageId } });
    expect(sent2.changes.messageId).not.toBe(sent1.changes.messageId);
    expect(accepted).toMatchObject({ actor: invitee.sub, changes: { status: 'ACCEPTED', userId: invitee.sub } });
    expect(added).toMatchObject({ actor: invitee.sub, changes: { userId: invitee.sub, associationType: 'MEMBER' } });
  });

  it('rejected', async () => {
    const { admin, org, invitee, invitation } = await orgWithInvitation(stack, user);
    await answerInvitation(stack, invitee, org.name, invitation.id, 'REJECTED');
    const events = await eventsOf(admin, org.name, invitation.id);
    expect(typesOf(events)).toEqual(['invitation.created', 'invitation.rejected']);
    expect(events[1]).toMatchObject({ actor: invitee.sub, changes: { status: 'REJECTED', userId: invitee.sub } });
  });

  it('revoked: the trail still answers while the invitation itself is gone (404)', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const revoked = await stack.api.delete(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(revoked.status, revoked.text).toBe(204);
    expect((await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token })).status).toBe(404);
    const events = await eventsOf(admin, org.name, invitation.id);
    expect(typesOf(events)).toEqual(['invitation.created', 'invitation.revoked']);
    expect(events[1]).toMatchObject({ actor: admin.sub, changes: { status: 'REVOKED' } });
    // Its email, delivered after the revocation, is not needed: no event of its own.
    await deliver(await recordOf(org.id, invitation.id));
    expect(typesOf(await eventsOf(admin, org.name, invitation.id))).toEqual(['invitation.created', 'invitation.revoked']);
  });

  it('email failed: an invitation that expired before its email went out', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    await expireInvitation(stack, org.id, invitation.id);
    await deliver(await recordOf(org.id, invitation.id));
    const events = await eventsOf(admin, org.name, invitation.id);
    expect(typesOf(events)).toEqual(['invitation.created', 'invitation.email.failed']);
    expect(events[1]).toMatchObject({ actor: 'system', changes: { deliverySeq: 1, reason: 'Not sent: the invitation had expired.' } });
  });

  it('email bounced (a notification SNS delivers twice records once), and complained', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const { invitations } = await invite(stack, admin, org.name, [uniqueAddress(), uniqueAddress()]);
    const targets = [];
    for (const invitation of invitations) {
      await deliver(await recordOf(org.id, invitation.id));
      const stored = (await storedInvitation(stack, org.id, invitation.id))!;
      targets.push({ messageId: stored.messageId as string, recipient: invitation.userEmail, orgId: org.id, invitationId: invitation.id, deliverySeq: 1 });
    }
    const bounce = snsEvent(sesBounceEvent(targets[0]!));
    await feedbackHandler(bounce, lambdaContext('emailFeedback'));
    await feedbackHandler(bounce, lambdaContext('emailFeedback'));
    await feedbackHandler(snsEvent(sesComplaintEvent(targets[1]!)), lambdaContext('emailFeedback'));

    const bounced = await eventsOf(admin, org.name, targets[0]!.invitationId);
    expect(typesOf(bounced)).toEqual(['invitation.created', 'invitation.email.sent', 'invitation.email.bounced']);
    expect(bounced[2]).toMatchObject({ actor: 'system', changes: { emailStatus: 'BOUNCED', messageId: targets[0]!.messageId, reason: expect.any(String) } });
    const complained = await eventsOf(admin, org.name, targets[1]!.invitationId);
    expect(typesOf(complained)).toEqual(['invitation.created', 'invitation.email.sent', 'invitation.email.complained']);
    expect((await storedInvitation(stack, org.id, targets[0]!.invitationId))!.emailStatus).toBe('BOUNCED');
  });
});

describe('member events', () => {
  it('a role change and a removal each record one event, by the admin, in the member’s partition', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const member = await addMember(stack, admin, org.name, user('member'));
    const promote = await stack.api.request('PATCH', paths.member(org.name, member.sub), { token: admin.token, body: { associationType: 'ADMIN' } });
    expect(promote.status, promote.text).toBe(200);
    // The same role again changes nothing: no event.
    const again = await stack.api.request('PATCH', paths.member(org.name, member.sub), { token: admin.token, body: { associationType: 'ADMIN' } });
    expect(again.status, again.text).toBe(200);
    const removed = await stack.api.delete(paths.member(org.name, member.sub), { token: admin.token });
    expect(removed.status, removed.text).toBe(204);

    const items = await memberEventsOf(org.id, member.sub);
    expect(items.map((item) => item.eventType)).toEqual(['organization.member.role.changed', 'organization.member.removed']);
    expect(items[0]).toMatchObject({ actor: admin.sub, orgId: org.id, orgName: org.name, changes: { userId: member.sub, associationType: 'ADMIN' } });
    expect(items[1]).toMatchObject({ actor: admin.sub, changes: { userId: member.sub } });
    expect(items.every((item) => item.invitationId === undefined)).toBe(true);
    // Kept for EVENT_RETENTION_SECONDS (default 365 days): the TTL.
    const ttl = items[1]!.ttl as number;
    expect(ttl - Date.parse(items[1]!.time as string) / 1000).toBeCloseTo(31_536_000, -1);
  });

  it('a member who leaves is the actor of their removal', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const member = await addMember(stack, admin, org.name, user('member'));
    expect((await stack.api.delete(paths.member(org.name, member.sub), { token: member.token })).status).toBe(204);
    const items = await memberEventsOf(org.id, member.sub);
    expect(items.map((item) => [item.eventType, item.actor])).toEqual([['organization.member.removed', member.sub]]);
  });
});

describe('who may read the trail', () => {
  it('org admins only: a member, a stranger, an unknown invitation or organization get the 404 of an unknown invitation', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    const member = await addMember(stack, admin, org.name, user('member'));
    const unknownInvitation = await stack.api.get(paths.invitation(org.name, '00000000-0000-4000-8000-000000000000'), { token: admin.token });
    expect(unknownInvitation.status).toBe(404);

    const refusals = [
      stack.api.get(eventsPath(org.name, invitation.id), { token: member.token }),
      stack.api.get(eventsPath(org.name, invitation.id), { token: user('stranger').token }),
      stack.api.get(eventsPath(org.name, '00000000-0000-4000-8000-000000000000'), { token: admin.token }),
      stack.api.get(eventsPath(`no-such-org-${Date.now()}`, invitation.id), { token: admin.token }),
    ];
    for (const response of await Promise.all(refusals)) {
      expect(response.status, response.text).toBe(404);
      expect(response.body).toEqual(unknownInvitation.body);
    }
    // An invitation of another organization, named under this one: 404 too.
    const other = await orgWithInvitation(stack, user);
    expect((await stack.api.get(eventsPath(org.name, other.invitation.id), { token: admin.token })).status).toBe(404);
  });
});

describe('paging', () => {
  it('limit and X-Next-Cursor walk the trail in order; bad limits and foreign or forged cursors are 400', async () => {
    const { admin, org, invitation } = await orgWithInvitation(stack, user);
    for (let i = 0; i < 3; i++) {
      const resend = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
      expect(resend.status, resend.text).toBe(200);
    }
    const all = await eventsOf(admin, org.name, invitation.id);
    expect(typesOf(all)).toEqual(['invitation.created', 'invitation.resent', 'invitation.resent', 'invitation.resent']);
    expect(all.slice(1).map((event) => event.changes.deliverySeq)).toEqual([2, 3, 4]);

    const walked: any[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await stack.api.get(`${eventsPath(org.name, invitation.id)}${query}`, { token: admin.token });
      expect(response.status, response.text).toBe(200);
      walked.push(...response.body);
      cursor = response.headers.get('x-next-cursor') ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(walked).toEqual(all);

    const first = await stack.api.get(`${eventsPath(org.name, invitation.id)}?limit=1`, { token: admin.token });
    const validCursor = first.headers.get('x-next-cursor')!;
    expect(validCursor).toBeTruthy();
    const other = await orgWithInvitation(stack, user, {});
    const forged = Buffer.from(JSON.stringify({ o: org.id, i: invitation.id, s: 'ORG' })).toString('base64url');
    const bad = [
      '?limit=0',
      '?limit=101',
      '?limit=abc',
      '?cursor=not-a-cursor',
      `?cursor=${forged}`,
    ];
    for (const query of bad) {
      const response = await stack.api.get(`${eventsPath(org.name, invitation.id)}${query}`, { token: admin.token });
      expect(response.status, `${query}: ${response.text}`).toBe(400);
      expect(response.body).toMatchObject({ status: 400, message: expect.any(String) });
    }
    // A cursor of this invitation, presented for another one (its admin's own): 400.
    const foreign = await stack.api.get(`${eventsPath(other.org.name, other.invitation.id)}?cursor=${validCursor}`, { token: other.admin.token });
    expect(foreign.status, foreign.text).toBe(400);
  });
});
