/**
 * Per-user rate limits on creating and resending invitations, with the default configuration
 * (create 5/600, resend 10/600), against the local stack. This file must not override the
 * RATE_LIMIT_* variables.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createOrganization, invite, newOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack, type ApiResponse } from '../support/stack.ts';
import { addAdminMember, storedGuards, storedInvitation, storedInvitations } from '../support/table.ts';

const WINDOW_SECONDS = 600;
const CREATE_LIMIT = 5;
const RESEND_LIMIT = 10;

/** The service's default limits: no overrides. */
const { stack, user } = useTestStack({});

/**
 * The limits count in fixed windows aligned to the epoch. A test that straddled a window end
 * would see its counter reset halfway, so each test starts well inside a window. This is the one
 * unavoidable wait: at most a few seconds, and only once every ten minutes.
 */
beforeEach(async () => {
  const secondsLeft = WINDOW_SECONDS - ((Date.now() / 1000) % WINDOW_SECONDS);
  if (secondsLeft < 10) await new Promise((resolve) => setTimeout(resolve, (secondsLeft + 0.5) * 1000));
});

// ---------------------------------------------------------------------------------------------
// Helpers

let emailCounter = 0;
const freshEmail = () => `rate-${process.pid}-${++emailCounter}-${Date.now()}@example.com`;

function create(orgName: string, caller: TestUser, emails: string[] = [freshEmail()]) {
  return stack.api.post(paths.invitations(orgName), { token: caller.token, body: { emails } });
}

function resend(orgId: number, invitationId: string, caller: TestUser) {
  return stack.api.post(paths.resend(orgId, invitationId), { token: caller.token });
}

const newOrg = () => newOrganization(stack, user);

const rateHeaders = (response: ApiResponse) => ({
  limit: response.headers.get('x-ratelimit-limit'),
  remaining: response.headers.get('x-ratelimit-remaining'),
  reset: response.headers.get('x-ratelimit-reset'),
});

/** X-RateLimit-Reset: integer epoch seconds, in the future and no later than one window from now. */
function expectResetWithinWindow(response: ApiResponse) {
  const reset = response.headers.get('x-ratelimit-reset');
  expect(reset).toMatch(/^\d+$/);
  const nowSeconds = Date.now() / 1000;
  expect(Number(reset)).toBeGreaterThan(nowSeconds);
  expect(Number(reset)).toBeLessThanOrEqual(Math.ceil(nowSeconds) + WINDOW_SECONDS);
}

/** The 429 contract: Retry-After in whole seconds within the window, and the window exhausted. */
function expectRateLimited(response: ApiResponse, limit: number) {
  expect(response.status, response.text).toBe(429);
  expect(response.body.status).toBe(429);
  const retryAfter = response.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
  expect(response.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
  expectResetWithinWindow(response);
  // Retry-After points at the end of the window that X-RateLimit-Reset names.
  const untilReset = Number(response.headers.get('x-ratelimit-reset')) - Date.now() / 1000;
  expect(Math.abs(Number(retryAfter) - untilReset)).toBeLessThanOrEqual(2);
}

/** Uses up `admin`'s create quota with single-address requests. */
async function exhaustCreateQuota(orgName: string, admin: TestUser) {
  for (let i = 0; i < CREATE_LIMIT; i++) expect((await create(orgName, admin)).status).toBe(201);
}

// ---------------------------------------------------------------------------------------------

describe('create rate limit (default 5/600)', () => {
  it('counts X-RateLimit-Remaining down 4, 3, 2, 1, 0 on the allowed creates', async () => {
    const { admin, name } = await newOrg();
    const seen: Array<ReturnType<typeof rateHeaders>> = [];
    for (let i = 0; i < CREATE_LIMIT; i++) {
      const response = await create(name, admin);
      expect(response.status, response.text).toBe(201);
      expectResetWithinWindow(response);
      seen.push(rateHeaders(response));
    }
    expect(seen.map((h) => h.remaining)).toEqual(['4', '3', '2', '1', '0']);
    expect(seen.every((h) => h.limit === '5')).toBe(true);
    expect(new Set(seen.map((h) => h.reset)).size).toBe(1);
  });

  it('answers the 6th create within the window with 429, Retry-After and X-RateLimit-*, and writes nothing', async () => {
    const { admin, id: orgId, name } = await newOrg();
    await exhaustCreateQuota(name, admin);
    const storedBefore = await storedInvitations(stack, orgId);
    const guardsBefore = await storedGuards(stack, orgId);

    const refusedEmails = [freshEmail(), freshEmail()];
    const response = await create(name, admin, refusedEmails);

    expectRateLimited(response, CREATE_LIMIT);
    expect(await storedInvitations(stack, orgId)).toEqual(storedBefore);
    expect(await storedGuards(stack, orgId)).toEqual(guardsBefore);
    expect(storedBefore).toHaveLength(CREATE_LIMIT);
    const listed = await stack.api.get(paths.invitations(name), { token: admin.token });
    expect(listed.body.map((i: any) => i.userEmail)).not.toContain(refusedEmails[0]);
    expect(listed.body).toHaveLength(CREATE_LIMIT);

    // Still limited: a refused request is not a reset.
    expectRateLimited(await create(name, admin), CREATE_LIMIT);
  });

  it('counts per user: another admin of the same organization is unaffected', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const coAdmin = user('co-admin');
    await addAdminMember(stack, orgId, coAdmin);
    await exhaustCreateQuota(name, admin);
    expectRateLimited(await create(name, admin), CREATE_LIMIT);

    const response = await create(name, coAdmin);

    expect(response.status, response.text).toBe(201);
    expect(response.body.invitations).toHaveLength(1);
    expect(rateHeaders(response)).toMatchObject({ limit: '5', remaining: '4' });
  });

  it('counts per user, not per organization: a limited user is limited in every organization', async () => {
    const { admin, name } = await newOrg();
    const other = await createOrganization(stack, admin);
    await exhaustCreateQuota(name, admin);

    expectRateLimited(await create(other.name, admin), CREATE_LIMIT);
  });

  it('exempts realm admins: 7 creates succeed without rate-limit headers', async () => {
    const { name } = await newOrg();
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    for (let i = 0; i < CREATE_LIMIT + 2; i++) {
      const response = await create(name, realmAdmin);
      expect(response.status, response.text).toBe(201);
      expect(response.body.invitations).toHaveLength(1);
      expect(rateHeaders(response)).toEqual({ limit: null, remaining: null, reset: null });
    }
  });

  it('lets exactly 5 of 9 parallel creates by one user through; the other 4 get 429 and write nothing', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const emails = Array.from({ length: 9 }, () => freshEmail());

    const responses = await Promise.all(emails.map((email) => create(name, admin, [email])));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(CREATE_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9 - CREATE_LIMIT);
    const allowed = responses.filter((r) => r.status === 201);
    expect(allowed.map((r) => r.headers.get('x-ratelimit-remaining')).sort()).toEqual(['0', '1', '2', '3', '4']);
    for (const refused of responses.filter((r) => r.status === 429)) expectRateLimited(refused, CREATE_LIMIT);

    const created = allowed.map((r) => r.body.invitations[0].userEmail).sort();
    expect((await storedInvitations(stack, orgId)).map((item) => item.userEmail).sort()).toEqual(created);
    expect(await storedGuards(stack, orgId)).toHaveLength(CREATE_LIMIT);
  });
});

describe('resend rate limit (default 10/600)', () => {
  it('allows 10 resends, counting down, and answers the 11th with 429 without changing the invitation', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const { invitations } = await invite(stack, admin, name, [freshEmail()]);
    const invitationId = invitations[0].id;

    const remaining: Array<string | null> = [];
    for (let i = 0; i < RESEND_LIMIT; i++) {
      const response = await resend(orgId, invitationId, admin);
      expect(response.status, response.text).toBe(200);
      expect(response.body.emailStatus).toBe('PENDING');
      expect((await storedInvitation(stack, orgId, invitationId))!.deliverySeq).toBe(i + 2);
      expect(response.headers.get('x-ratelimit-limit')).toBe('10');
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    const [before] = await storedInvitations(stack, orgId);

    const response = await resend(orgId, invitationId, admin);

    expectRateLimited(response, RESEND_LIMIT);
    const [after] = await storedInvitations(stack, orgId);
    expect(after).toEqual(before);
    expect(after!.deliverySeq).toBe(RESEND_LIMIT + 1);
  });

  it('keeps the resend and create counters apart', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const { invitations } = await invite(stack, admin, name, [freshEmail()]); // create 1 of 5
    for (let i = 0; i < RESEND_LIMIT; i++) expect((await resend(orgId, invitations[0].id, admin)).status).toBe(200);
    expectRateLimited(await resend(orgId, invitations[0].id, admin), RESEND_LIMIT);

    const response = await create(name, admin);

    expect(response.status, response.text).toBe(201);
    expect(rateHeaders(response)).toMatchObject({ limit: '5', remaining: '3' });
  });
});

// ---------------------------------------------------------------------------------------------
// Organizations: create 10/600 and update 5/60 per user by default, as the Jaqpot server.

const CREATE_ORGANIZATION_LIMIT = 10;
const UPDATE_ORGANIZATION_LIMIT = 5;
const UPDATE_WINDOW_SECONDS = 60;

const createOrg = (caller: TestUser, name = `rl-${Math.random().toString(36).slice(2, 10)}`) =>
  stack.api.post(paths.organizations, { token: caller.token, body: { name, contactEmail: 'c@example.com', visibility: 'PRIVATE' } });

const updateOrg = (orgId: number, caller: TestUser, name: string, description?: string) =>
  stack.api.request('PATCH', `/v1/organizations/${orgId}/partial`, {
    token: caller.token,
    body: { name, contactEmail: 'c@example.com', visibility: 'PRIVATE', ...(description !== undefined && { description }) },
  });

describe('create organization rate limit (default 10/600)', () => {
  it('counts down in X-RateLimit-* and answers the 11th create with 429 + Retry-After, creating nothing', async () => {
    const founder = user('founder');
    const remaining: Array<string | null> = [];
    for (let i = 0; i < CREATE_ORGANIZATION_LIMIT; i++) {
      const response = await createOrg(founder);
      expect(response.status, response.text).toBe(201);
      expect(response.headers.get('x-ratelimit-limit')).toBe(String(CREATE_ORGANIZATION_LIMIT));
      expectResetWithinWindow(response);
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);

    const name = `rl-refused-${Math.random().toString(36).slice(2, 10)}`;
    const refused = await createOrg(founder, name);
    expectRateLimited(refused, CREATE_ORGANIZATION_LIMIT);
    expect((await stack.api.get(paths.organization(name), { token: founder.token })).status).toBe(404);
    expect((await stack.api.get('/v1/user/organizations', { token: founder.token })).body).toHaveLength(CREATE_ORGANIZATION_LIMIT);
    // Per user: someone else still creates.
    expect((await createOrg(user('other'))).status).toBe(201);
  });

  it('does not count an invalid body, and exempts realm admins', async () => {
    const founder = user('founder');
    for (let i = 0; i < CREATE_ORGANIZATION_LIMIT + 2; i++) {
      const bad = await stack.api.post(paths.organizations, { token: founder.token, body: { name: 'x' } });
      expect(bad.status).toBe(400);
    }
    const first = await createOrg(founder);
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('x-ratelimit-remaining')).toBe(String(CREATE_ORGANIZATION_LIMIT - 1));

    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    for (let i = 0; i < CREATE_ORGANIZATION_LIMIT + 1; i++) {
      const response = await createOrg(realmAdmin);
      expect(response.status, response.text).toBe(201);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});

describe('update organization rate limit (default 5/60)', () => {
  beforeEach(async () => {
    const secondsLeft = UPDATE_WINDOW_SECONDS - ((Date.now() / 1000) % UPDATE_WINDOW_SECONDS);
    if (secondsLeft < 10) await new Promise((resolve) => setTimeout(resolve, (secondsLeft + 0.5) * 1000));
  });

  it('answers the 6th update within a minute with 429 + Retry-After and changes nothing; refused callers are not counted', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    // A stranger's refused attempts (404) cost the admin nothing and count for nobody.
    for (let i = 0; i < UPDATE_ORGANIZATION_LIMIT + 1; i++) expect((await updateOrg(org.id, user('stranger'), org.name)).status).toBe(404);

    const remaining: Array<string | null> = [];
    for (let i = 0; i < UPDATE_ORGANIZATION_LIMIT; i++) {
      const response = await updateOrg(org.id, admin, org.name, `Description ${i}`);
      expect(response.status, response.text).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe(String(UPDATE_ORGANIZATION_LIMIT));
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const refused = await updateOrg(org.id, admin, `${org.name}-renamed`, 'Refused');
    expect(refused.status, refused.text).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(UPDATE_WINDOW_SECONDS);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    const read = await stack.api.get(paths.organization(org.name), { token: admin.token });
    expect(read.body).toMatchObject({ name: org.name, description: `Description ${UPDATE_ORGANIZATION_LIMIT - 1}` });

    // Realm admins are exempt.
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    for (let i = 0; i < UPDATE_ORGANIZATION_LIMIT + 1; i++) {
      expect((await updateOrg(org.id, realmAdmin, org.name, `By the realm admin ${i}`)).status).toBe(200);
    }
  });
});
