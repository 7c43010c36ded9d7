/**
 * Expiry and TTL, against the local stack with the service's default INVITATION_EXPIRY_SECONDS
 * (7 days) and INVITATION_RETENTION_SECONDS (30 days):
 *
 * - an invitation whose expiry has passed but that TTL has not deleted yet (TTL deletion is lazy)
 *   behaves as expired everywhere: reads show it PENDING with a past expirationDate, the status
 *   filters put it under EXPIRED and not PENDING, answering is 400 and resending 410 (both
 *   saying it expired, changing nothing), and it does not block a new invitation of the address;
 * - an invitation past its retention (TTL passed, item not deleted yet) is gone for every read:
 *   not listed, 404 to GET, PUT and resend; answered ones are kept ANSWERED_INVITATION_RETENTION
 *   (one year) after the answer;
 * - the `ttl` attribute is a Number of epoch seconds: expiresAt + retention on pending
 *   invitations (moved by a resend), respondedAt + one year on answered ones; guards expire with their
 *   invitation; rate-limit windows a minute after they close.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { uniqueAddress } from '../support/emails.ts';
import { invite, newOrganization, orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { expectConsistentOrganization, partitionState } from '../support/invariants.ts';
import { useTestStack } from '../support/stack.ts';
import {
  ageInvitation,
  expireInvitation,
  setInvitationExpiry,
  storedGuard,
  storedInvitation,
  storedInvitations,
  storedMembership,
} from '../support/table.ts';

/** The service defaults (README, Configuration); this file does not override them. */
const DEFAULT_EXPIRY_SECONDS = 604_800;
const DEFAULT_RETENTION_SECONDS = 2_592_000;
const DEFAULT_ANSWERED_RETENTION_SECONDS = 31_536_000;

const { stack, user } = useTestStack();

/** A plain DynamoDB client: attribute types as stored (N, S, ...), not converted to JS values. */
let rawClient: DynamoDBClient;
beforeAll(() => {
  expect(process.env.INVITATION_EXPIRY_SECONDS ?? 'unset', 'this file tests the default expiry').toBe('unset');
  expect(process.env.INVITATION_RETENTION_SECONDS ?? 'unset', 'this file tests the default retention').toBe('unset');
  expect(process.env.ANSWERED_INVITATION_RETENTION_SECONDS ?? 'unset', 'this file tests the default answered retention').toBe('unset');
  rawClient = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint') });
});
afterAll(() => rawClient?.destroy());

// ---------------------------------------------------------------------------------------------
// Helpers

const nowSeconds = () => Date.now() / 1000;

async function rawItem(key: { PK: string; SK: string }): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await rawClient.send(
    new GetItemCommand({ TableName: stack.tableName, Key: { PK: { S: key.PK }, SK: { S: key.SK } }, ConsistentRead: true }),
  );
  return Item;
}

/** The stored `ttl` as DynamoDB holds it: must be a Number of whole epoch seconds. */
function ttlOf(item: Record<string, AttributeValue> | undefined, what: string): number {
  expect(item, what).toBeDefined();
  const ttl = item!.ttl;
  expect(ttl, `${what}: ttl attribute`).toBeDefined();
  expect(Object.keys(ttl!), `${what}: ttl type`).toEqual(['N']);
  const value = (ttl as AttributeValue.NMember).N;
  expect(value, `${what}: ttl in whole seconds`).toMatch(/^\d+$/);
  // Epoch seconds (DynamoDB ignores TTLs in milliseconds: they look 50,000 years away).
  expect(Number(value)).toBeLessThan(10_000_000_000);
  return Number(value);
}

function numberOf(item: Record<string, AttributeValue> | undefined, name: string): number {
  const value = item?.[name] as AttributeValue.NMember | undefined;
  expect(value?.N, `${name} is a Number`).toBeDefined();
  return Number(value!.N);
}

function answer(invitee: TestUser, orgName: string, invitationId: string, status: string) {
  return stack.api.put(paths.invitation(orgName, invitationId), { token: invitee.token, body: { status } });
}

async function list(orgName: string, admin: TestUser, status?: string): Promise<any[]> {
  const response = await stack.api.get(`${paths.invitations(orgName)}${status ? `?status=${status}` : ''}`, { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** An organization with one invitation whose expiry passed a minute ago (TTL has deleted nothing). */
async function expiredInvitation() {
  const setup = await orgWithInvitation(stack, user);
  await expireInvitation(stack, setup.org.id, setup.invitation.id, 60);
  const stored = await storedInvitation(stack, setup.org.id, setup.invitation.id);
  expect(stored!.expiresAt).toBeLessThan(nowSeconds());
  return { ...setup, expiresAt: stored!.expiresAt as number };
}

// ---------------------------------------------------------------------------------------------

describe('an expired invitation that TTL has not deleted yet', () => {
  it('GET shows it, to the admin and to the invitee, as PENDING with its expirationDate in the past', async () => {
    const { admin, invitee, org, invitation, expiresAt } = await expiredInvitation();

    for (const reader of [admin, invitee]) {
      const response = await stack.api.get(paths.invitation(org.name, invitation.id), { token: reader.token });
      expect(response.status, response.text).toBe(200);
      expect(response.body).toMatchObject({ id: invitation.id, status: 'PENDING' });
      expect(response.body.expirationDate).toBe(new Date(expiresAt * 1000).toISOString());
      expect(Date.parse(response.body.expirationDate)).toBeLessThan(Date.now());
    }
  });

  it('?status=EXPIRED lists it and ?status=PENDING does not (next to a live invitation); unfiltered it is PENDING', async () => {
    const { admin, org, invitation } = await expiredInvitation();
    const live = (await invite(stack, admin, org.name, [uniqueAddress('live')])).invitations[0];

    expect((await list(org.name, admin, 'EXPIRED')).map((i) => i.id)).toEqual([invitation.id]);
    expect((await list(org.name, admin, 'PENDING')).map((i) => i.id)).toEqual([live.id]);
    const all = await list(org.name, admin);
    expect(all.map((i) => [i.id, i.status]).sort()).toEqual([[invitation.id, 'PENDING'], [live.id, 'PENDING']].sort());
    expect(await list(org.name, admin, 'ACCEPTED')).toEqual([]);
    expect(await list(org.name, admin, 'REJECTED')).toEqual([]);
  });

  it.each(['ACCEPTED', 'REJECTED', 'PENDING'])(
    'answering it (%s) is 400 saying it expired and that an admin can send a new one; nothing changes',
    async (status) => {
      const { org, invitee, invitation } = await expiredInvitation();
      const before = await partitionState(stack, org.id);

      const response = await answer(invitee, org.name, invitation.id, status);

      expect(response.status, response.text).toBe(400);
      expect(response.body.message).toMatch(/expired/i);
      expect(response.body.message).toMatch(/new one/i);
      expect(await partitionState(stack, org.id)).toEqual(before);
      expect(await storedMembership(stack, org.id, invitee.sub)).toBeUndefined();
    },
  );

  it('resending it is 410 saying it expired; nothing changes and no resend budget is spent', async () => {
    const { admin, org, invitation } = await expiredInvitation();
    const before = await partitionState(stack, org.id);

    const response = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });

    expect(response.status, response.text).toBe(410);
    expect(response.body.message).toMatch(/expired/i);
    expect(await partitionState(stack, org.id)).toEqual(before);
    expect(await rawItem(keys.rateLimitWindow('resend', admin.sub, Math.floor(nowSeconds() / 600)))).toBeUndefined();
  });

  it('a new invitation of the address succeeds (201, new id, not skipped): then one EXPIRED and one live invitation', async () => {
    const { admin, invitee, org, invitation } = await expiredInvitation();

    const response = await stack.api.post(paths.invitations(org.name), {
      token: admin.token,
      body: { emails: [`  ${invitee.email.toUpperCase()} `] },
    });

    expect(response.status, response.text).toBe(201);
    expect(response.body.skipped).toEqual([]);
    expect(response.body.invitations).toHaveLength(1);
    const fresh = response.body.invitations[0];
    expect(fresh.id).not.toBe(invitation.id);
    expect(fresh.status).toBe('PENDING');
    expect(Date.parse(fresh.expirationDate)).toBeGreaterThan(Date.now());

    const emailNormalized = invitee.email.toLowerCase();
    const stored = await storedInvitations(stack, org.id, { emailNormalized });
    expect(stored.map((i) => i.id).sort()).toEqual([invitation.id, fresh.id].sort());
    expect((await storedGuard(stack, org.id, emailNormalized))?.invitationId).toBe(fresh.id);
    expect((await list(org.name, admin, 'EXPIRED')).map((i) => i.id)).toEqual([invitation.id]);
    expect((await list(org.name, admin, 'PENDING')).map((i) => i.id)).toEqual([fresh.id]);
    await expectConsistentOrganization(stack, org.id);

    // The live one can be accepted; the expired one still cannot be answered.
    const accepted = await answer(invitee, org.name, fresh.id, 'ACCEPTED');
    expect(accepted.status, accepted.text).toBe(200);
    const old = await answer(invitee, org.name, invitation.id, 'ACCEPTED');
    expect(old.status, old.text).toBe(400);
    expect(old.body.message).toMatch(/expired/i);
    expect((await list(org.name, admin, 'EXPIRED')).map((i) => i.id)).toEqual([invitation.id]);
    await expectConsistentOrganization(stack, org.id);
  });

  it('once TTL has deleted its guard (guards expire at expiresAt) but not the invitation: still 400 / 410, and a new invitation is created', async () => {
    const { admin, invitee, org, invitation } = await expiredInvitation();
    const emailNormalized = invitee.email.toLowerCase();
    await stack.db.send(new DeleteCommand({ TableName: stack.tableName, Key: keys.pendingGuard(org.id, emailNormalized) }));

    const answered = await answer(invitee, org.name, invitation.id, 'ACCEPTED');
    expect(answered.status, answered.text).toBe(400);
    expect(answered.body.message).toMatch(/expired/i);
    const resent = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resent.status, resent.text).toBe(410);
    expect(await storedGuard(stack, org.id, emailNormalized)).toBeUndefined();

    const created = await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [invitee.email] } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.skipped).toEqual([]);
    expect((await storedGuard(stack, org.id, emailNormalized))?.invitationId).toBe(created.body.invitations[0].id);
    await expectConsistentOrganization(stack, org.id);
  });

  it('an invitation expiring in 30 s is still live: it blocks a new one (ALREADY_INVITED) and can be accepted', async () => {
    const { admin, invitee, org, invitation } = await orgWithInvitation(stack, user);
    await setInvitationExpiry(stack, org.id, invitation.id, Math.floor(nowSeconds()) + 30);

    const again = await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [invitee.email] } });
    expect(again.status, again.text).toBe(201);
    expect(again.body).toEqual({ invitations: [], skipped: [{ email: invitee.email, reason: 'ALREADY_INVITED' }] });
    expect((await list(org.name, admin, 'EXPIRED'))).toEqual([]);

    const accepted = await answer(invitee, org.name, invitation.id, 'ACCEPTED');
    expect(accepted.status, accepted.text).toBe(200);
    await expectConsistentOrganization(stack, org.id);
  });
});

describe('past its retention, before TTL has deleted it (never trust TTL)', () => {
  /** Every way an admin or the invitee could still see or touch the invitation. */
  async function expectGone(setup: { admin: TestUser; invitee: TestUser; org: { id: number; name: string } }, id: string) {
    const { admin, invitee, org } = setup;
    for (const status of [undefined, 'PENDING', 'EXPIRED', 'ACCEPTED', 'REJECTED']) {
      expect((await list(org.name, admin, status)).map((i) => i.id), `listed with status=${status}`).not.toContain(id);
    }
    for (const reader of [admin, invitee]) {
      const response = await stack.api.get(paths.invitation(org.name, id), { token: reader.token });
      expect(response.status, response.text).toBe(404);
    }
    const answered = await answer(invitee, org.name, id, 'ACCEPTED');
    expect(answered.status, answered.text).toBe(404);
    const resent = await stack.api.post(paths.resend(org.id, id), { token: admin.token });
    expect(resent.status, resent.text).toBe(404);
  }

  it.each(['ACCEPTED', 'REJECTED'])('an invitation %s a year ago is gone; one answered a year ago less a minute is still listed', async (status) => {
    const setup = await orgWithInvitation(stack, user);
    const { admin, invitee, org, invitation } = setup;
    const second = (await invite(stack, admin, org.name, [uniqueAddress('second')])).invitations[0];
    expect((await answer(invitee, org.name, invitation.id, status)).status).toBe(200);
    const other = user('other', { email: second.userEmail });
    expect((await answer(other, org.name, second.id, status)).status).toBe(200);

    await ageInvitation(stack, org.id, invitation.id, DEFAULT_ANSWERED_RETENTION_SECONDS);
    await ageInvitation(stack, org.id, second.id, DEFAULT_ANSWERED_RETENTION_SECONDS - 60);

    await expectGone(setup, invitation.id);
    expect((await list(org.name, admin)).map((i) => i.id)).toEqual([second.id]);
    expect((await list(org.name, admin, status)).map((i) => i.id)).toEqual([second.id]);
    const kept = await stack.api.get(paths.invitation(org.name, second.id), { token: admin.token });
    expect(kept.status, kept.text).toBe(200);
    // Nothing was deleted: only hidden until TTL removes it.
    expect(await storedInvitation(stack, org.id, invitation.id)).toBeDefined();
  });

  it('a pending invitation past expiresAt + 30 days is gone, and does not block a new invitation', async () => {
    const setup = await orgWithInvitation(stack, user);
    const { admin, invitee, org, invitation } = setup;
    await ageInvitation(stack, org.id, invitation.id, DEFAULT_EXPIRY_SECONDS + DEFAULT_RETENTION_SECONDS + 1);

    await expectGone(setup, invitation.id);
    const created = await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [invitee.email] } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.skipped).toEqual([]);
  });
});

describe('TTL', () => {
  it('a new pending invitation: ttl is a Number of epoch seconds, expiresAt + 30 days, expiresAt being now + 7 days', async () => {
    const { admin, id: orgId, name } = await newOrganization(stack, user);
    const before = Math.floor(nowSeconds());
    const invitation = (await invite(stack, admin, name, [uniqueAddress()])).invitations[0];
    const after = Math.ceil(nowSeconds());

    const item = await rawItem(keys.invitation(orgId, invitation.id));
    const ttl = ttlOf(item, 'invitation');
    const expiresAt = numberOf(item, 'expiresAt');
    expect(expiresAt).toBeGreaterThanOrEqual(before + DEFAULT_EXPIRY_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(after + DEFAULT_EXPIRY_SECONDS);
    expect(ttl).toBe(expiresAt + DEFAULT_RETENTION_SECONDS);
    // The documented window: not before the expiry, not after expiry + retention (+ a few seconds).
    expect(ttl).toBeGreaterThanOrEqual(before + DEFAULT_EXPIRY_SECONDS);
    expect(ttl).toBeLessThanOrEqual(after + DEFAULT_EXPIRY_SECONDS + DEFAULT_RETENTION_SECONDS + 5);
    expect(Date.parse(invitation.expirationDate) / 1000).toBe(expiresAt);
  });

  it("its guard expires with it: the guard's ttl is a Number equal to the invitation's expiresAt", async () => {
    const { org, invitation, invitee } = await orgWithInvitation(stack, user);

    const guard = await rawItem(keys.pendingGuard(org.id, invitee.email.toLowerCase()));
    const stored = await rawItem(keys.invitation(org.id, invitation.id));
    expect(ttlOf(guard, 'guard')).toBe(numberOf(stored, 'expiresAt'));
    expect(numberOf(guard, 'expiresAt')).toBe(numberOf(stored, 'expiresAt'));
  });

  it("a resend moves expiresAt, the invitation's ttl and the guard's expiry and ttl together", async () => {
    const { admin, org, invitation, invitee } = await orgWithInvitation(stack, user);
    await setInvitationExpiry(stack, org.id, invitation.id, Math.floor(nowSeconds()) + 3_600);
    const before = Math.floor(nowSeconds());

    const response = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(response.status, response.text).toBe(200);
    const after = Math.ceil(nowSeconds());

    const item = await rawItem(keys.invitation(org.id, invitation.id));
    const expiresAt = numberOf(item, 'expiresAt');
    expect(expiresAt).toBeGreaterThanOrEqual(before + DEFAULT_EXPIRY_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(after + DEFAULT_EXPIRY_SECONDS);
    expect(ttlOf(item, 'invitation after resend')).toBe(expiresAt + DEFAULT_RETENTION_SECONDS);
    const guard = await rawItem(keys.pendingGuard(org.id, invitee.email.toLowerCase()));
    expect(numberOf(guard, 'expiresAt')).toBe(expiresAt);
    expect(ttlOf(guard, 'guard after resend')).toBe(expiresAt);
    await expectConsistentOrganization(stack, org.id, { retentionSeconds: DEFAULT_RETENTION_SECONDS });
  });

  it.each(['ACCEPTED', 'REJECTED'])('answering (%s) sets the ttl to respondedAt + one year: history is kept, not forever', async (status) => {
    const { org, invitation, invitee } = await orgWithInvitation(stack, user);
    ttlOf(await rawItem(keys.invitation(org.id, invitation.id)), 'pending invitation');

    const response = await answer(invitee, org.name, invitation.id, status);
    expect(response.status, response.text).toBe(200);

    const item = await rawItem(keys.invitation(org.id, invitation.id));
    expect(item?.status).toEqual({ S: status });
    const respondedAt = Math.floor(Date.parse((item!.respondedAt as AttributeValue.SMember).S) / 1000);
    expect(ttlOf(item, 'answered invitation')).toBe(respondedAt + DEFAULT_ANSWERED_RETENTION_SECONDS);
    expect(await rawItem(keys.pendingGuard(org.id, invitee.email.toLowerCase()))).toBeUndefined();
  });

  it('invitations of a whole organization: pending ones carry expiresAt + retention, answered ones respondedAt + one year', async () => {
    const { admin, id: orgId, name } = await newOrganization(stack, user);
    const invitees = [user('a'), user('b'), user('c')];
    const { invitations } = await invite(stack, admin, name, invitees.map((i) => i.email));
    const idOf = (invitee: TestUser) => invitations.find((i: any) => i.userEmail === invitee.email).id;
    expect((await answer(invitees[0]!, name, idOf(invitees[0]!), 'ACCEPTED')).status).toBe(200);
    expect((await answer(invitees[1]!, name, idOf(invitees[1]!), 'REJECTED')).status).toBe(200);

    await expectConsistentOrganization(stack, orgId, {
      retentionSeconds: DEFAULT_RETENTION_SECONDS,
      answeredRetentionSeconds: DEFAULT_ANSWERED_RETENTION_SECONDS,
    });
  });

  it.each(['create', 'resend'] as const)(
    'the %s rate-limit window item carries ttl = the window end (X-RateLimit-Reset) + 60 s, a Number',
    async (action) => {
      const { admin, org, invitation } = await orgWithInvitation(stack, user);
      const response =
        action === 'create'
          ? await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [uniqueAddress()] } })
          : await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
      expect(response.status, response.text).toBe(action === 'create' ? 201 : 200);
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThan(nowSeconds());

      const { Items } = await rawClient.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': { S: `RATE#${action}#${admin.sub}` } },
          ConsistentRead: true,
        }),
      );
      expect(Items).toHaveLength(1);
      expect(ttlOf(Items![0], `${action} rate-limit window`)).toBe(reset + 60);
    },
  );

  it('an Idempotency-Key record carries a numeric ttl about 24 h ahead', async () => {
    const { admin, name } = await newOrganization(stack, user);
    const key = `ttl-${Math.random().toString(36).slice(2)}`;
    const before = Math.floor(nowSeconds());
    const response = await stack.api.post(paths.invitations(name), {
      token: admin.token,
      body: { emails: [uniqueAddress()] },
      headers: { 'Idempotency-Key': key },
    });
    expect(response.status, response.text).toBe(201);

    const ttl = ttlOf(await rawItem(keys.idempotency(admin.sub, key)), 'idempotency record');
    expect(ttl).toBeGreaterThanOrEqual(before + 86_400);
    expect(ttl).toBeLessThanOrEqual(Math.ceil(nowSeconds()) + 86_400 + 1);
  });
});
