/**
 * The invitation timers end to end, in real time with short lifetimes: invitations live
 * INVITATION_EXPIRY_SECONDS = 8 s and are reminded REMINDER_BEFORE_SECONDS = 3 s before they
 * expire; the timer function runs every TIMER_PERIOD_MS = 1 s (on AWS: every minute), the table
 * stream feeds the delivery function, and the emails land in the SES emulator.
 *
 * Each test waits for the last deadline's event, then at least two more timer periods, so a
 * second firing would have had its chance: exactly one `invitation.expired` event and exactly one
 * reminder per lifetime; none after an accept or a revoke; a resend moves both deadlines (and its
 * lifetime gets its own reminder); no reminder for a link-only invitation or a lifetime shorter
 * than twice the lead. Events are read from the table (the invitation's event partition), and
 * one test reads a whole invitation's story through the history endpoint.
 *
 * The delays from each deadline to its event are collected and printed at the end.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { toInvitationItem } from '../../shared/adapters/dynamodb/items.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { newInvitation, type InvitationTimings } from '../../shared/domain/invitation.ts';
import { TIMER_SHARDS } from '../../shared/domain/timers.ts';
import { emailsTo, pollUntil, sleep, uniqueAddress, waitForEmails, waitUntilSent } from '../support/emails.ts';
import { answerInvitation, createOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const LIFETIME_SECONDS = 8;
const LEAD_SECONDS = 3;
const TIMER_PERIOD_MS = 1_000;
/** After the last expected event: two more timer periods, and a little for the stream and SES. */
const SETTLE_MS = 2 * TIMER_PERIOD_MS + 1_000;
const TIMINGS: InvitationTimings = {
  expirySeconds: LIFETIME_SECONDS,
  retentionSeconds: 2_592_000,
  answeredRetentionSeconds: 31_536_000,
  reminderBeforeSeconds: LEAD_SECONDS,
};

const { stack, user } = useTestStack(
  { ...RELAXED_RATE_LIMITS, INVITATION_EXPIRY_SECONDS: String(LIFETIME_SECONDS), REMINDER_BEFORE_SECONDS: String(LEAD_SECONDS) },
  { emailDelivery: true, timerPeriodMs: TIMER_PERIOD_MS },
);

// ---------------------------------------------------------------------------------------------
// Helpers

interface StoredEvent {
  eventId: string;
  eventType: string;
  time: string;
  actor: string;
  changes: Record<string, unknown>;
}

async function eventsOf(orgId: number, invitationId: string): Promise<StoredEvent[]> {
  const { Items } = await stack.db.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.invitationEvents(orgId, invitationId) },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []) as StoredEvent[];
}

const ofType = (events: StoredEvent[], type: string) => events.filter((event) => event.eventType === type);

/** Waits (up to 20 s) until the invitation has `count` events of `type`; returns all its events. */
async function waitForEvents(orgId: number, invitationId: string, type: string, count = 1): Promise<StoredEvent[]> {
  return pollUntil(() => eventsOf(orgId, invitationId), (events) => ofType(events, type).length >= count, {
    timeoutMs: 20_000,
    intervalMs: 100,
  });
}

/** Milliseconds from each deadline to its event, for the report at the end. */
const delays: { reminded: number[]; expired: number[] } = { reminded: [], expired: [] };

/** Records and returns how late the event was: its time minus the deadline (epoch seconds). */
function delayOf(event: StoredEvent, deadlineSeconds: number, kind: keyof typeof delays): number {
  const delay = Date.parse(event.time) - deadlineSeconds * 1000;
  delays[kind].push(delay);
  return delay;
}

afterAll(() => {
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return `n=${sorted.length} min=${sorted[0]} median=${at(0.5)} p95=${at(0.95)} max=${sorted[sorted.length - 1]} ms`;
  };
  if (delays.expired.length > 0) {
    console.log(`deadline → event delay (timer period ${TIMER_PERIOD_MS} ms): expired ${summary(delays.expired)}; reminded ${summary(delays.reminded)}`);
  }
});

async function orgOfAdmin() {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  return { admin, org };
}

async function create(admin: TestUser, orgName: string, emails: string[], body: Record<string, unknown> = {}) {
  const response = await stack.api.post(paths.invitations(orgName), { token: admin.token, body: { emails, ...body } });
  expect(response.status, response.text).toBe(201);
  return response.body.invitations as { id: string; userEmail: string }[];
}

/** The expiry stored for an invitation (epoch seconds). */
const expiresAtOf = async (orgId: number, invitationId: string) => (await storedInvitation(stack, orgId, invitationId))!.expiresAt as number;

const isReminder = (email: { subject: string }) => email.subject.startsWith('Reminder:');

// ---------------------------------------------------------------------------------------------

describe.concurrent('invitation timers (lifetime 8 s, reminder 3 s before, timers every 1 s)', () => {
  it('exactly one reminder email and one expired event per invitation, each soon after its deadline', async () => {
    const { admin, org } = await orgOfAdmin();
    const addresses = [uniqueAddress(), uniqueAddress(), uniqueAddress()];
    const invitations = await create(admin, org.name, addresses);

    for (const invitation of invitations) await waitForEvents(org.id, invitation.id, 'invitation.expired');
    await sleep(SETTLE_MS);

    for (const invitation of invitations) {
      const expiresAt = await expiresAtOf(org.id, invitation.id);
      const events = await eventsOf(org.id, invitation.id);
      const reminded = ofType(events, 'invitation.reminded');
      const expired = ofType(events, 'invitation.expired');
      expect(reminded, 'reminded events').toHaveLength(1);
      expect(expired, 'expired events').toHaveLength(1);
      expect(expired[0]).toMatchObject({
        eventId: `invitation/${invitation.id}/invitation.expired/${expiresAt}`,
        actor: 'system',
        changes: { expiresAt },
      });
      expect(reminded[0]).toMatchObject({ eventId: `invitation/${invitation.id}/invitation.reminded/${expiresAt}`, actor: 'system' });
      // Never before its deadline; at most the next run after it, plus that run's time (the bound
      // locally; slack for a loaded machine: the deadline is whole seconds, runs take longer under load).
      const reminderDelay = delayOf(reminded[0]!, expiresAt - LEAD_SECONDS, 'reminded');
      const expiryDelay = delayOf(expired[0]!, expiresAt, 'expired');
      expect(reminderDelay).toBeGreaterThanOrEqual(0);
      expect(expiryDelay).toBeGreaterThanOrEqual(0);
      expect(reminderDelay).toBeLessThan(3 * TIMER_PERIOD_MS + 2_000);
      expect(expiryDelay).toBeLessThan(3 * TIMER_PERIOD_MS + 2_000);

      // The reminder went through the outbox: a second email request, sent and counted.
      const item = await storedInvitation(stack, org.id, invitation.id);
      expect(item).toMatchObject({ status: 'PENDING', emailStatus: 'SENT', deliverySeq: 2, deliveredSeq: 2, sendCount: 2, remindedFor: expiresAt });
      expect(item!.GSI4PK, 'out of the timer index once expired').toBeUndefined();
      expect(item!.GSI2PK, 'out of the pending-email index').toBeUndefined();
    }

    for (const address of addresses) {
      const emails = await emailsTo(stack.sesEndpoint, [address]);
      expect(emails.map(isReminder), `emails to ${address}`).toEqual([false, true]);
      const reminder = emails[1]!;
      const expiresAt = await expiresAtOf(org.id, invitations.find((i) => i.userEmail === address)!.id);
      const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(expiresAt * 1000));
      expect(reminder.subject).toContain(`expires soon, on ${when} UTC`);
      expect(reminder.body.text).toContain(`The invitation expires soon, on ${when} UTC`);
    }
  }, 40_000);

  it('the history endpoint tells the whole story in order: created, email sent, resent, email sent, reminded, accepted', async () => {
    const { admin, org } = await orgOfAdmin();
    const invitee = user('invitee');
    const [invitation] = await create(admin, org.name, [invitee.email]);
    await waitUntilSent(stack, org.id, invitation!.id, 1);
    // A new lifetime from now: its reminder is due LIFETIME − LEAD seconds later.
    const resend = await stack.api.post(paths.resend(org.id, invitation!.id), { token: admin.token });
    expect(resend.status, resend.text).toBe(200);
    await waitUntilSent(stack, org.id, invitation!.id, 2);
    await waitForEvents(org.id, invitation!.id, 'invitation.reminded');
    await waitUntilSent(stack, org.id, invitation!.id, 3);
    // Reminded and not yet expired: the invitee accepts.
    await answerInvitation(stack, invitee, org.name, invitation!.id, 'ACCEPTED');

    const history = await stack.api.get(`${paths.invitation(org.name, invitation!.id)}/events`, { token: admin.token });
    expect(history.status, history.text).toBe(200);
    const events = history.body as { id: string; type: string; time: string; actor: string; invitationId: string }[];
    expect(events.map((event) => event.type)).toEqual([
      'invitation.created',
      'invitation.email.sent',
      'invitation.resent',
      'invitation.email.sent',
      'invitation.reminded',
      'invitation.email.sent', // the reminder
      'invitation.accepted',
      'organization.member.added',
    ]);
    expect(events.map((event) => event.time)).toEqual([...events.map((event) => event.time)].sort());
    expect(new Set(events.map((event) => event.id)).size, 'ids are unique').toBe(events.length);
    expect(events.every((event) => event.invitationId === invitation!.id)).toBe(true);
    const actors = events.map((event) => event.actor);
    expect(actors).toEqual([admin.sub, 'system', admin.sub, 'system', 'system', 'system', invitee.sub, invitee.sub]);
  }, 40_000);

  it('none after an accept or a revoke: no reminder, no expired event, out of the timer index', async () => {
    const { admin, org } = await orgOfAdmin();
    const invitee = user('invitee');
    const revoked = uniqueAddress();
    const [accepted, toRevoke] = await create(admin, org.name, [invitee.email, revoked]);
    await answerInvitation(stack, invitee, org.name, accepted!.id, 'ACCEPTED');
    const revoke = await stack.api.delete(paths.invitation(org.name, toRevoke!.id), { token: admin.token });
    expect(revoke.status, revoke.text).toBe(204);
    for (const invitation of [accepted!, toRevoke!]) {
      expect((await storedInvitation(stack, org.id, invitation.id))!.GSI4PK, 'out of the timer index').toBeUndefined();
    }

    // Past both deadlines, and two more timer periods.
    await sleep(LIFETIME_SECONDS * 1000 + SETTLE_MS);
    for (const invitation of [accepted!, toRevoke!]) {
      const events = await eventsOf(org.id, invitation.id);
      expect(ofType(events, 'invitation.reminded'), 'reminded events').toHaveLength(0);
      expect(ofType(events, 'invitation.expired'), 'expired events').toHaveLength(0);
    }
    const emails = await emailsTo(stack.sesEndpoint, [invitee.email, revoked]);
    expect(emails.filter(isReminder), 'reminders').toHaveLength(0);
  }, 40_000);

  it('a resend moves both deadlines, and its new lifetime gets its own reminder', async () => {
    const { admin, org } = await orgOfAdmin();
    const address = uniqueAddress();
    const [invitation] = await create(admin, org.name, [address]);
    const firstExpiresAt = await expiresAtOf(org.id, invitation!.id);
    await waitForEvents(org.id, invitation!.id, 'invitation.reminded');
    // (A resend before the reminder went out would supersede it: the outbox sends the latest request only.)
    await waitUntilSent(stack, org.id, invitation!.id, 2);

    // Reminded, not yet expired: the resend starts a new lifetime.
    const resend = await stack.api.post(paths.resend(org.id, invitation!.id), { token: admin.token });
    expect(resend.status, resend.text).toBe(200);
    const secondExpiresAt = await expiresAtOf(org.id, invitation!.id);
    expect(secondExpiresAt).toBeGreaterThan(firstExpiresAt);
    const item = await storedInvitation(stack, org.id, invitation!.id);
    expect(item!.GSI4SK, 'the next deadline: the new lifetime\'s reminder').toBe(
      keys.timer(0, secondExpiresAt - LEAD_SECONDS, invitation!.id).GSI4SK,
    );
    expect(item!.remindedFor).toBeUndefined();

    await waitForEvents(org.id, invitation!.id, 'invitation.expired');
    await sleep(SETTLE_MS);
    const events = await eventsOf(org.id, invitation!.id);
    const reminded = ofType(events, 'invitation.reminded');
    const expired = ofType(events, 'invitation.expired');
    expect(reminded.map((e) => e.eventId)).toEqual([
      `invitation/${invitation!.id}/invitation.reminded/${firstExpiresAt}`,
      `invitation/${invitation!.id}/invitation.reminded/${secondExpiresAt}`,
    ]);
    // The first lifetime never expired: only the second one's expiry, at or after it.
    expect(expired.map((e) => e.eventId)).toEqual([`invitation/${invitation!.id}/invitation.expired/${secondExpiresAt}`]);
    expect(delayOf(reminded[1]!, secondExpiresAt - LEAD_SECONDS, 'reminded')).toBeGreaterThanOrEqual(0);
    expect(delayOf(expired[0]!, secondExpiresAt, 'expired')).toBeGreaterThanOrEqual(0);

    const emails = await emailsTo(stack.sesEndpoint, [address]);
    expect(emails.map(isReminder), 'invitation, reminder, resend, reminder').toEqual([false, true, false, true]);
    expect(await storedInvitation(stack, org.id, invitation!.id)).toMatchObject({ sendCount: 4, deliverySeq: 4, emailStatus: 'SENT' });
  }, 40_000);

  it('a link-only invitation gets no reminder, only its expired event', async () => {
    const { admin, org } = await orgOfAdmin();
    const address = uniqueAddress();
    const [invitation] = await create(admin, org.name, [address], { sendEmail: false });
    const expiresAt = await expiresAtOf(org.id, invitation!.id);
    expect((await storedInvitation(stack, org.id, invitation!.id))!.GSI4SK, 'waits for the expiry').toBe(
      keys.timer(0, expiresAt, invitation!.id).GSI4SK,
    );

    await waitForEvents(org.id, invitation!.id, 'invitation.expired');
    await sleep(SETTLE_MS);
    const events = await eventsOf(org.id, invitation!.id);
    expect(ofType(events, 'invitation.reminded')).toHaveLength(0);
    expect(ofType(events, 'invitation.expired')).toHaveLength(1);
    delayOf(ofType(events, 'invitation.expired')[0]!, expiresAt, 'expired');
    expect(await emailsTo(stack.sesEndpoint, [address])).toHaveLength(0);
    expect(await storedInvitation(stack, org.id, invitation!.id)).toMatchObject({ emailStatus: 'NOT_REQUESTED', sendCount: 0 });
  }, 40_000);

  it('a lifetime shorter than twice the lead (5 s < 2 × 3 s) gets no reminder, only its expired event', async () => {
    const { admin, org } = await orgOfAdmin();
    const address = uniqueAddress();
    // The API's shortest lifetime is an hour: stored as create stores it, with its own 5 s lifetime.
    const invitation = newInvitation(
      {
        id: crypto.randomUUID(),
        org: { id: org.id, name: org.name },
        email: { address, normalized: address },
        inviter: { userId: admin.sub, email: admin.email, emailVerified: true, username: 'admin', isRealmAdmin: false },
      },
      Date.now(),
      TIMINGS,
      { associationType: 'MEMBER', expiresInSeconds: 5, sendEmail: true },
    );
    await stack.db.send(new PutCommand({ TableName: stack.tableName, Item: toInvitationItem(invitation, TIMINGS) }));

    await waitForEvents(org.id, invitation.id, 'invitation.expired');
    await sleep(SETTLE_MS);
    const events = await eventsOf(org.id, invitation.id);
    expect(ofType(events, 'invitation.reminded')).toHaveLength(0);
    expect(ofType(events, 'invitation.expired')).toHaveLength(1);
    delayOf(ofType(events, 'invitation.expired')[0]!, invitation.expiresAt, 'expired');
    const emails = await waitForEmails(stack.sesEndpoint, [address], 1);
    expect(emails.map(isReminder), 'the invitation email only').toEqual([false]);
  }, 40_000);

  it('timers spread over the shards, and every one is found: 50 invitations, one expired event each', async () => {
    const { admin, org } = await orgOfAdmin();
    const invitations = [];
    for (let i = 0; i < 5; i++) {
      invitations.push(...(await create(admin, org.name, Array.from({ length: 10 }, () => uniqueAddress('shard')), { sendEmail: false })));
    }
    const shards = new Set<string>();
    for (const invitation of invitations) shards.add((await storedInvitation(stack, org.id, invitation.id))!.GSI4PK);
    // 50 random ids over 64 shards: about 35 distinct (fewer than 10 is far less likely than 1e-6).
    expect(shards.size).toBeGreaterThanOrEqual(10);
    for (const shard of shards) expect(shard).toMatch(new RegExp(`^TIMER#(${Array.from({ length: TIMER_SHARDS }, (_, i) => i).join('|')})$`));

    for (const invitation of invitations) await waitForEvents(org.id, invitation.id, 'invitation.expired');
    await sleep(SETTLE_MS);
    for (const invitation of invitations) {
      const events = await eventsOf(org.id, invitation.id);
      expect(ofType(events, 'invitation.expired'), invitation.id).toHaveLength(1);
      expect(ofType(events, 'invitation.reminded'), invitation.id).toHaveLength(0);
      delayOf(ofType(events, 'invitation.expired')[0]!, await expiresAtOf(org.id, invitation.id), 'expired');
      expect((await storedInvitation(stack, org.id, invitation.id))!.GSI4PK).toBeUndefined();
    }
  }, 60_000);
});
