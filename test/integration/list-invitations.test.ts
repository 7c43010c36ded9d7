/**
 * GET /v1/organizations/{orgName}/invitations against the local stack: who may list, the order
 * and content of the list, the status filter, and cursor paging.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack, type ApiResponse } from '../support/stack.ts';
import { expireInvitation } from '../support/table.ts';

const { stack, user } = useTestStack();

/**
 * Organization A, created by `admin`, holds one invitation in each state, created in this order
 * (one request each, so their createdAt differ): accepted, rejected, expired, pending ×3.
 * Organization B, also administered by `admin`, holds two pending invitations of its own.
 */
let admin: TestUser;
let member: TestUser; // joined A by accepting its invitation
let orgA: { id: number; name: string };
let orgB: { id: number; name: string };
const ids = { accepted: '', rejected: '', expired: '', pending: [] as string[] };
/** A's invitation ids, newest first. */
let newestFirst: string[];
let orgBIds: string[];

beforeAll(async () => {
  admin = user('admin');
  orgA = await createOrganization(stack, admin);
  orgB = await createOrganization(stack, admin);

  member = user('member');
  ids.accepted = await inviteOne(orgA.name, member.email);
  await answerInvitation(stack, member, orgA.name, ids.accepted, 'ACCEPTED');

  const rejecter = user('rejecter');
  ids.rejected = await inviteOne(orgA.name, rejecter.email);
  await answerInvitation(stack, rejecter, orgA.name, ids.rejected, 'REJECTED');

  ids.expired = await inviteOne(orgA.name, 'expired@example.com');
  await expireInvitation(stack, orgA.id, ids.expired);

  for (const n of [1, 2, 3]) ids.pending.push(await inviteOne(orgA.name, `pending-${n}@example.com`));

  newestFirst = [ids.accepted, ids.rejected, ids.expired, ...ids.pending].reverse();
  orgBIds = [await inviteOne(orgB.name, 'b-1@example.com'), await inviteOne(orgB.name, 'b-2@example.com')].reverse();
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function inviteOne(orgName: string, email: string): Promise<string> {
  const { invitations } = await invite(stack, admin, orgName, [email]);
  expect(invitations).toHaveLength(1);
  return invitations[0].id;
}

function list(orgName: string, caller: TestUser | undefined, query: Record<string, string | number> = {}) {
  const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return stack.api.get(`${paths.invitations(orgName)}${search ? `?${search}` : ''}`, { token: caller?.token });
}

async function listIds(orgName: string, caller: TestUser, query: Record<string, string | number> = {}) {
  const response = await list(orgName, caller, query);
  expect(response.status, response.text).toBe(200);
  return (response.body as any[]).map((invitation) => invitation.id as string);
}

/** Follows X-Next-Cursor from the first page to the one without it; returns every page. */
async function pageThrough(orgName: string, caller: TestUser, query: Record<string, string | number>) {
  const pages: ApiResponse<any[]>[] = [];
  let cursor: string | null = null;
  do {
    const response = await list(orgName, caller, cursor === null ? query : { ...query, cursor });
    expect(response.status, response.text).toBe(200);
    pages.push(response);
    cursor = response.headers.get('x-next-cursor');
    if (pages.length > 20) throw new Error('paging does not terminate');
  } while (cursor !== null);
  return pages;
}

/** The ids across pages; a page is never empty, since a cursor is only given when more follow. */
function idsOf(pages: ApiResponse<any[]>[]) {
  for (const page of pages.slice(1)) expect(page.body.length, 'a cursor led to an empty page').toBeGreaterThan(0);
  return pages.flatMap((page) => page.body.map((i) => i.id as string));
}

function expectBadRequest(response: ApiResponse) {
  expect(response.status, response.text).toBe(400);
  expect(response.body.status).toBe(400);
}

async function firstPageCursor(orgName: string): Promise<string> {
  const response = await list(orgName, admin, { limit: 1 });
  expect(response.status, response.text).toBe(200);
  const cursor = response.headers.get('x-next-cursor');
  expect(cursor).toBeTruthy();
  return cursor!;
}

// ---------------------------------------------------------------------------------------------

describe('listing invitations', () => {
  it("returns all of the organization's invitations, newest first, in every state", async () => {
    const response = await list(orgA.name, admin);

    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('x-next-cursor')).toBeNull();
    const invitations = response.body as any[];
    expect(invitations.map((i) => i.id)).toEqual(newestFirst);
    const byId = new Map(invitations.map((i) => [i.id, i]));
    expect(byId.get(ids.accepted)).toMatchObject({ status: 'ACCEPTED', userEmail: member.email, userId: member.sub });
    expect(byId.get(ids.rejected)).toMatchObject({ status: 'REJECTED' });
    expect(byId.get(ids.expired)).toMatchObject({ status: 'PENDING', userEmail: 'expired@example.com' });
    expect(Date.parse(byId.get(ids.expired).expirationDate)).toBeLessThan(Date.now());
    for (const id of ids.pending) {
      expect(byId.get(id).status).toBe('PENDING');
      expect(Date.parse(byId.get(id).expirationDate)).toBeGreaterThan(Date.now());
    }
    const createdAt = invitations.map((i) => Date.parse(i.createdAt));
    expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
    expect(new Set(createdAt).size).toBe(createdAt.length);
  });

  it("lists only the organization's own invitations", async () => {
    expect(await listIds(orgB.name, admin)).toEqual(orgBIds);
  });

  it('returns an empty array for an organization without invitations', async () => {
    const empty = await createOrganization(stack, admin);
    const response = await list(empty.name, admin);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual([]);
    expect(response.headers.get('x-next-cursor')).toBeNull();
  });

  it.each([
    ['PENDING', () => [...ids.pending].reverse()],
    ['EXPIRED', () => [ids.expired]],
    ['ACCEPTED', () => [ids.accepted]],
    ['REJECTED', () => [ids.rejected]],
  ])('filters by status=%s (PENDING = live only, EXPIRED = pending past expiry)', async (status, expected) => {
    expect(await listIds(orgA.name, admin, { status })).toEqual(expected());
  });
});

describe('paging', () => {
  it('yields every invitation exactly once, in order, with limit=2', async () => {
    const pages = await pageThrough(orgA.name, admin, { limit: 2 });

    expect(idsOf(pages)).toEqual(newestFirst);
    for (const page of pages) expect(page.body.length).toBeLessThanOrEqual(2);
    expect(pages[0]!.body).toHaveLength(2);
    expect(pages[0]!.headers.get('x-next-cursor')).toBeTruthy();
  });

  it.each([1, 4, 5, 6, 7, 100])('yields the same list with limit=%i', async (limit) => {
    const pages = await pageThrough(orgA.name, admin, { limit });
    expect(idsOf(pages)).toEqual(newestFirst);
    for (const page of pages) expect(page.body.length).toBeLessThanOrEqual(limit);
  });

  it('omits X-Next-Cursor on a last page that is not full', async () => {
    // 6 invitations in pages of 4: the second page holds the last 2.
    const first = await list(orgA.name, admin, { limit: 4 });
    const second = await list(orgA.name, admin, { limit: 4, cursor: first.headers.get('x-next-cursor')! });
    expect(second.status, second.text).toBe(200);
    expect(second.body.map((i: any) => i.id)).toEqual(newestFirst.slice(4));
    expect(second.headers.get('x-next-cursor')).toBeNull();
  });

  it('omits X-Next-Cursor on a last page that is exactly full', async () => {
    // 6 invitations in pages of 3: the second page holds the last 3 and nothing follows.
    const first = await list(orgA.name, admin, { limit: 3 });
    expect(first.headers.get('x-next-cursor')).toBeTruthy();
    const second = await list(orgA.name, admin, { limit: 3, cursor: first.headers.get('x-next-cursor')! });
    expect(second.status, second.text).toBe(200);
    expect(second.body.map((i: any) => i.id)).toEqual(newestFirst.slice(3));
    expect(second.headers.get('x-next-cursor')).toBeNull();
  });

  it('pages with a status filter', async () => {
    const pages = await pageThrough(orgA.name, admin, { status: 'PENDING', limit: 2 });
    expect(idsOf(pages)).toEqual([...ids.pending].reverse());
    expect(pages[0]!.body).toHaveLength(2);
    for (const page of pages) expect(page.body.every((i: any) => i.status === 'PENDING')).toBe(true);
  });

  it('pages with a status filter whose matches are far apart', async () => {
    // ACCEPTED is the oldest of six: the first page has to skip over everything newer.
    const pages = await pageThrough(orgA.name, admin, { status: 'ACCEPTED', limit: 1 });
    expect(idsOf(pages)).toEqual([ids.accepted]);
  });

  it('refuses a cursor issued for another organization, even to an admin of both', async () => {
    const cursorOfA = await firstPageCursor(orgA.name);
    expectBadRequest(await list(orgB.name, admin, { limit: 1, cursor: cursorOfA }));
    // The same cursor is still good where it came from.
    expect((await list(orgA.name, admin, { limit: 1, cursor: cursorOfA })).status).toBe(200);
  });

  it.each([
    ['garbage', () => 'not-a-cursor'],
    ['base64 of non-JSON', () => Buffer.from('hello world').toString('base64url')],
    ['base64 of an empty object', () => Buffer.from('{}').toString('base64url')],
    ['base64 of JSON null', () => Buffer.from('null').toString('base64url')],
    ['a forged position outside the invitations', () =>
      Buffer.from(JSON.stringify({ o: orgA.id, s: 'ORG', l: 'ORG' })).toString('base64url')],
    ['a truncated cursor', async () => (await firstPageCursor(orgA.name)).slice(0, 10)],
    ['an over-long cursor', () => 'A'.repeat(5000)],
  ])('refuses %s as a cursor with 400', async (_label, cursor) => {
    expectBadRequest(await list(orgA.name, admin, { limit: 2, cursor: await cursor() }));
  });
});

describe('invalid list queries', () => {
  it.each([
    [{ status: 'BOGUS' }],
    [{ status: '' }],
    [{ limit: 0 }],
    [{ limit: 101 }],
    [{ limit: 'abc' }],
    [{ limit: -1 }],
    [{ limit: 1.5 }],
    [{ limit: '' }],
  ])('answers 400 for %o', async (query) => {
    expectBadRequest(await list(orgA.name, admin, query));
  });
});

describe('who may list invitations', () => {
  it('lets a realm admin who is not a member list any organization', async () => {
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    expect(await listIds(orgA.name, realmAdmin)).toEqual(newestFirst);
    expect(await listIds(orgB.name, realmAdmin)).toEqual(orgBIds);
  });

  it('answers 401 to a plain member', async () => {
    const response = await list(orgA.name, member);
    expect(response.status, response.text).toBe(401);
    expect(response.body.status).toBe(401);
  });

  it('answers a stranger on a PRIVATE organization exactly as on an unknown one (404)', async () => {
    const stranger = user('stranger');
    const response = await list(orgA.name, stranger);
    expect(response.status, response.text).toBe(404);
    expect(response.body).toEqual({ status: 404, message: 'Organization not found.' });
    expect(response.body).toEqual((await list('no-such-org-xyz', stranger)).body);
  });

  it('answers 404 to a stranger with a status filter and limit', async () => {
    const response = await list(orgA.name, user('stranger'), { status: 'PENDING', limit: 2 });
    expect(response.status, response.text).toBe(404);
  });

  it('answers 401 to a stranger on a PUBLIC organization', async () => {
    const open = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    const response = await list(open.name, user('stranger'));
    expect(response.status, response.text).toBe(401);
    expect(response.body).toEqual({ status: 401, message: 'Only organization admins can do this.' });
  });

  it('answers the gateway 401 without a token', async () => {
    const response = await list(orgA.name, undefined);
    expect(response.status).toBe(401);
    expect(response.text).toBe('{"message":"Unauthorized"}');
  });

  it('answers 404 for an unknown organization, to anyone', async () => {
    const realmAdmin = user('realm-admin', { realmRoles: ['admin'] });
    for (const caller of [admin, realmAdmin]) {
      const response = await list(uniqueOrgName('missing'), caller);
      expect(response.status, response.text).toBe(404);
      expect(response.body.status).toBe(404);
    }
  });
});
