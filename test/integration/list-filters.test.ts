/**
 * GET /v1/organizations/{orgName}/invitations?email=&invitedBy=: the filters by address (matched
 * as everywhere else: trimmed, case-insensitive) and by inviter, alone and combined with status,
 * limit and cursor.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addMember, answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack } from '../support/stack.ts';

const { stack, user } = useTestStack();

let creator: TestUser;
let secondAdmin: TestUser;
let carol: TestUser;
let org: { id: number; name: string };
/** Invitation ids: carol's rejected then pending one, dave's (all by the creator), erin's and frank's (by the second admin). */
const ids = { carolRejected: '', carolPending: '', dave: '', erin: '', frank: '' };

beforeAll(async () => {
  creator = user('creator');
  org = await createOrganization(stack, creator);
  secondAdmin = await addMember(stack, creator, org.name, user('second-admin'));
  const promoted = await stack.api.request('PATCH', paths.member(org.name, secondAdmin.sub), {
    token: creator.token,
    body: { associationType: 'ADMIN' },
  });
  expect(promoted.status).toBe(200);

  carol = user('carol', { email: `Carol.${org.id}@Example.com` });
  const first = await invite(stack, creator, org.name, [carol.email, `dave.${org.id}@example.com`]);
  ids.carolRejected = first.invitations[0].id;
  ids.dave = first.invitations[1].id;
  await answerInvitation(stack, carol, org.name, ids.carolRejected, 'REJECTED');
  ids.carolPending = (await invite(stack, creator, org.name, [carol.email.toLowerCase()])).invitations[0].id;
  const byOther = await invite(stack, secondAdmin, org.name, [`erin.${org.id}@example.com`, `frank.${org.id}@example.com`]);
  [ids.erin, ids.frank] = byOther.invitations.map((i) => i.id);
});

async function list(query: string) {
  const response = await stack.api.get(`${paths.invitations(org.name)}?${query}`, { token: creator.token });
  expect(response.status, response.text).toBe(200);
  return { ids: response.body.map((i: { id: string }) => i.id) as string[], cursor: response.headers.get('x-next-cursor') ?? undefined };
}

/** Every page of a filtered list, following X-Next-Cursor. */
async function allPages(query: string): Promise<{ ids: string[]; pages: number }> {
  const found: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    found.push(...page.ids);
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < 10);
  return { ids: found, pages };
}

describe('?email=', () => {
  it('finds the invitations to an address, whatever its case and surrounding spaces, newest first', async () => {
    const expected = [ids.carolPending, ids.carolRejected];
    expect((await list(`email=${encodeURIComponent(carol.email.toUpperCase())}`)).ids).toEqual(expected);
    expect((await list(`email=${encodeURIComponent(` ${carol.email.toLowerCase()}\t`)}`)).ids).toEqual(expected);
    expect((await list(`email=nobody.${org.id}@example.com`)).ids).toEqual([]);
  });

  it('combines with status', async () => {
    const email = encodeURIComponent(carol.email);
    expect((await list(`email=${email}&status=PENDING`)).ids).toEqual([ids.carolPending]);
    expect((await list(`email=${email}&status=REJECTED`)).ids).toEqual([ids.carolRejected]);
    expect((await list(`email=${email}&status=ACCEPTED`)).ids).toEqual([]);
  });
});

describe('?invitedBy=', () => {
  it('finds the invitations one admin sent', async () => {
    expect(new Set((await list(`invitedBy=${encodeURIComponent(secondAdmin.sub)}`)).ids)).toEqual(new Set([ids.erin, ids.frank]));
    const byCreator = await stack.api.get(`${paths.invitations(org.name)}?invitedBy=${encodeURIComponent(creator.sub)}`, { token: creator.token });
    // Carol's two, Dave's, and the second admin's own (accepted) invitation.
    expect(byCreator.body.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([ids.carolPending, ids.carolRejected, ids.dave]));
    expect(byCreator.body).toHaveLength(4);
    expect(byCreator.body.every((i: { invitedBy: string }) => i.invitedBy === creator.sub)).toBe(true);
    expect(byCreator.body.find((i: { userEmail: string }) => i.userEmail === secondAdmin.email)?.status).toBe('ACCEPTED');
    expect((await list('invitedBy=someone-else')).ids).toEqual([]);
  });

  it('combines with status, email, limit and cursor', async () => {
    const paged = await allPages(`invitedBy=${encodeURIComponent(creator.sub)}&status=PENDING&limit=1`);
    expect(paged.ids).toEqual([ids.carolPending, ids.dave]);
    expect(paged.pages).toBeGreaterThanOrEqual(2);
    const email = encodeURIComponent(carol.email);
    expect((await list(`email=${email}&invitedBy=${encodeURIComponent(creator.sub)}`)).ids).toEqual([ids.carolPending, ids.carolRejected]);
    expect((await list(`email=${email}&invitedBy=${encodeURIComponent(secondAdmin.sub)}`)).ids).toEqual([]);
    const byEmailPaged = await allPages(`email=${email}&limit=1`);
    expect(byEmailPaged.ids).toEqual([ids.carolPending, ids.carolRejected]);
  });
});

describe('bad filter values', () => {
  it('answers 400 naming the parameter', async () => {
    for (const [query, parameter] of [
      ['email=not-an-address', 'email'],
      ['email=', 'email'],
      ['email=a%0A@example.com', 'email'],
      ['invitedBy=', 'invitedBy'],
      [`invitedBy=${'u'.repeat(256)}`, 'invitedBy'],
    ] as const) {
      const response = await stack.api.get(`${paths.invitations(org.name)}?${query}`, { token: creator.token });
      expect(response.status, query).toBe(400);
      expect(response.body.message.startsWith(parameter), response.body.message).toBe(true);
    }
  });

  it('still refuses non-admins first: a plain member gets 401 whatever the filters', async () => {
    const plain = await addMember(stack, creator, org.name, user('plain'));
    const response = await stack.api.get(`${paths.invitations(org.name)}?email=${encodeURIComponent(carol.email)}`, { token: plain.token });
    expect(response.status).toBe(401);
  });
});
