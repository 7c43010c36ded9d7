/**
 * GET /v1/user/invitations ("my invitations"): the caller's live PENDING invitations across all
 * organizations, matched to the token's verified email as GET/PUT of an invitation match it,
 * newest first, paged with limit/cursor, each with its organization's current name and the
 * inviter's name. Through the real authorizer and handlers; DynamoDB calls counted with the
 * bench's SDK meter (one Query per page whatever the number of organizations).
 */
import { describe, expect, it } from 'vitest';
import { installDynamoDbMeter } from '../../bench/dynamodb-meter.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { metered } from '../support/metered.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { expireInvitation, storedInvitation } from '../support/table.ts';

installDynamoDbMeter();
const { stack, user } = useTestStack();

const MY_INVITATIONS = '/v1/user/invitations';

const myInvitations = (caller: { token: string }, query = '') => stack.api.get(`${MY_INVITATIONS}${query}`, { token: caller.token });

/** Every page, following X-Next-Cursor; the ids in order, and how many pages it took. */
async function allPages(caller: { token: string }, limit: number) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await myInvitations(caller, `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.length).toBeLessThanOrEqual(limit);
    ids.push(...response.body.map((item: any) => item.id));
    cursor = response.headers.get('x-next-cursor');
    pages++;
  } while (cursor && pages < 50);
  return { ids, pages };
}

/**
 * `count` organizations, each created by its own admin (named `inviter-<i>`), each inviting
 * `invitee` once (spelled in upper case: matching is by the normalized address), one after another.
 * Returns them oldest first.
 */
async function invitedByOrganizations(invitee: TestUser, count: number) {
  const invited: { org: { id: number; name: string }; admin: TestUser; inviterName: string; invitationId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const inviterName = `inviter-${i}`;
    const admin = user(inviterName);
    const org = await createOrganization(stack, admin);
    const { invitations } = await invite(stack, admin, org.name, [invitee.email.toUpperCase()]);
    invited.push({ org, admin, inviterName, invitationId: invitations[0].id });
  }
  return invited;
}

describe('GET /v1/user/invitations', () => {
  it('lists invitations from three organizations newest first: the invitee view plus orgId, orgName and inviterName', async () => {
    const invitee = user('invitee');
    const invited = await invitedByOrganizations(invitee, 3);

    const response = await myInvitations(invitee);

    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('x-next-cursor')).toBeNull();
    expect(response.body.map((item: any) => item.id)).toEqual(invited.map((i) => i.invitationId).reverse());
    for (const item of response.body) {
      const source = invited.find((i) => i.invitationId === item.id)!;
      expect(item).toMatchObject({
        orgId: source.org.id,
        orgName: source.org.name,
        inviterName: source.inviterName,
        invitedBy: source.admin.sub,
        userEmail: invitee.email.toUpperCase(),
        status: 'PENDING',
        associationType: 'MEMBER',
      });
      // The invitee's view: no admin link.
      expect(item).not.toHaveProperty('link');
      // The orgName is what the invitee answers with.
      const own = await stack.api.get(paths.invitation(item.orgName, item.id), { token: invitee.token });
      expect(own.status, own.text).toBe(200);
    }
    const createdAt = response.body.map((item: any) => item.createdAt);
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
  });

  it('pages with limit and cursor cover every invitation exactly once, in order', async () => {
    const invitee = user('invitee');
    const invited = await invitedByOrganizations(invitee, 5);
    const newestFirst = invited.map((i) => i.invitationId).reverse();

    for (const limit of [1, 2, 5]) {
      const { ids } = await allPages(invitee, limit);
      expect(ids, `limit=${limit}`).toEqual(newestFirst);
    }
    const { pages } = await allPages(invitee, 2);
    expect(pages).toBe(3);
  });

  it('an accepted, a rejected and a revoked invitation each disappear', async () => {
    const invitee = user('invitee');
    const [toAccept, toReject, toRevoke, kept] = await invitedByOrganizations(invitee, 4);
    const listed = async () => (await myInvitations(invitee)).body.map((item: any) => item.id);
    expect(await listed()).toHaveLength(4);

    const accepted = await stack.api.put(paths.invitation(toAccept!.org.name, toAccept!.invitationId), { token: invitee.token, body: { status: 'ACCEPTED' } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(await listed()).not.toContain(toAccept!.invitationId);

    const rejected = await stack.api.put(paths.invitation(toReject!.org.name, toReject!.invitationId), { token: invitee.token, body: { status: 'REJECTED' } });
    expect(rejected.status, rejected.text).toBe(200);
    expect(await listed()).not.toContain(toReject!.invitationId);

    const revoked = await stack.api.delete(paths.invitation(toRevoke!.org.name, toRevoke!.invitationId), { token: toRevoke!.admin.token });
    expect(revoked.status, revoked.text).toBe(204);
    expect(await listed()).toEqual([kept!.invitationId]);

    // Out of the index, not just filtered: the answering and revoking writes removed the GSI3 keys.
    for (const gone of [toAccept!, toReject!, toRevoke!]) {
      const item = await storedInvitation(stack, gone.org.id, gone.invitationId);
      expect(item).not.toHaveProperty('GSI3PK');
      expect(item).not.toHaveProperty('GSI3SK');
    }
    expect(await storedInvitation(stack, kept!.org.id, kept!.invitationId)).toHaveProperty('GSI3PK');
  });

  it('an expired invitation disappears although TTL has deleted nothing (it is still in the index)', async () => {
    const invitee = user('invitee');
    const [expiring, live] = await invitedByOrganizations(invitee, 2);

    await expireInvitation(stack, expiring!.org.id, expiring!.invitationId, 1);

    const response = await myInvitations(invitee);
    expect(response.status, response.text).toBe(200);
    expect(response.body.map((item: any) => item.id)).toEqual([live!.invitationId]);
    expect(await storedInvitation(stack, expiring!.org.id, expiring!.invitationId)).toHaveProperty('GSI3PK');
  });

  it('paging past expired entries (read, then dropped: pages may be short) still covers every live one exactly once', async () => {
    const invitee = user('invitee');
    const [oldest, middle, newest] = await invitedByOrganizations(invitee, 3);
    await expireInvitation(stack, middle!.org.id, middle!.invitationId);

    for (const limit of [1, 2]) {
      const { ids } = await allPages(invitee, limit);
      expect(ids, `limit=${limit}`).toEqual([newest!.invitationId, oldest!.invitationId]);
    }
  });

  it("shows the organization's current name after a rename", async () => {
    const invitee = user('invitee');
    const [{ org, admin, invitationId }] = (await invitedByOrganizations(invitee, 1)) as [any];
    const renamed = uniqueOrgName('renamed');

    const patch = await stack.api.request('PATCH', `/v1/organizations/${org.id}/partial`, {
      token: admin.token,
      body: { name: renamed, contactEmail: 'contact@example.com', visibility: 'PRIVATE' },
    });
    expect(patch.status, patch.text).toBe(200);

    const response = await myInvitations(invitee);
    expect(response.body).toEqual([expect.objectContaining({ id: invitationId, orgId: org.id, orgName: renamed })]);
  });

  it('answers an unverified email with 400 and code 1001', async () => {
    const invitee = user('invitee');
    await invitedByOrganizations(invitee, 1);
    const unverified = user('unverified', { sub: invitee.sub, email: invitee.email, emailVerified: false });

    const response = await myInvitations(unverified);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, code: 1001, message: expect.any(String) });
  });

  it('answers a token without an email with an empty list', async () => {
    const noEmail = { token: stack.issuer.token({ sub: `no-email-${Date.now()}`, username: 'no-email' }) };

    const response = await myInvitations(noEmail);

    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual([]);
    expect(response.headers.get('x-next-cursor')).toBeNull();
  });

  it("shows nobody else's invitations: not another user, not the inviting admin, not a lookalike address", async () => {
    const invitee = user('invitee');
    const [{ admin }] = (await invitedByOrganizations(invitee, 2)) as [any];
    const lookalike = user('lookalike', { email: invitee.email.replace('@', '+x@') });

    for (const other of [user('other'), admin, lookalike]) {
      const response = await myInvitations(other);
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual([]);
    }
  });

  it("refuses another user's cursor with 400", async () => {
    const owner = user('owner');
    await invitedByOrganizations(owner, 2);
    const page = await myInvitations(owner, '?limit=1');
    const cursor = page.headers.get('x-next-cursor');
    expect(cursor).toBeTruthy();
    const other = user('other');
    await invitedByOrganizations(other, 1);

    const response = await myInvitations(other, `?limit=1&cursor=${encodeURIComponent(cursor!)}`);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, message: expect.stringMatching(/cursor/) });
    // The owner's own cursor still works.
    expect((await myInvitations(owner, `?limit=1&cursor=${encodeURIComponent(cursor!)}`)).status).toBe(200);
  });

  it('refuses forged cursors with 400', async () => {
    const invitee = user('invitee');
    await invitedByOrganizations(invitee, 2);
    const cursor = (await myInvitations(invitee, '?limit=1')).headers.get('x-next-cursor')!;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      'not-a-cursor',
      encode('a string'),
      encode(null),
      encode({ ...decoded, a: 'x'.repeat(22) }),
      encode({ ...decoded, o: 0 }),
      encode({ ...decoded, o: '1' }),
      encode({ ...decoded, s: 'GSI3SK' }),
      encode({ ...decoded, s: `${decoded.s}#x` }),
      encode({ a: decoded.a, s: decoded.s }),
      // An organization-list cursor is not one of these.
      encode({ o: decoded.o, s: 'INV#x', l: 'INV#y' }),
    ];
    for (const bad of forged) {
      const response = await myInvitations(invitee, `?cursor=${encodeURIComponent(bad)}`);
      expect(response.status, bad).toBe(400);
      expect(response.body).toEqual({ status: 400, message: expect.stringMatching(/cursor/) });
    }
  });

  it.each(['0', '101', '-1', '1.5', 'abc', ''])('refuses limit=%s with 400', async (limit) => {
    const response = await myInvitations(user('caller'), `?limit=${limit}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ status: 400, message: expect.stringMatching(/limit/) });
  });
});

describe('what a page costs', () => {
  it('one Query (plus one BatchGetItem for the names) per page, whether the invitations come from 1 organization or 12', async () => {
    const fromOne = user('from-one');
    await invitedByOrganizations(fromOne, 1);
    const fromTwelve = user('from-twelve');
    await invitedByOrganizations(fromTwelve, 12);

    const one = await metered(() => myInvitations(fromOne));
    const twelve = await metered(() => myInvitations(fromTwelve));
    expect(one.response.body).toHaveLength(1);
    expect(twelve.response.body).toHaveLength(12);
    expect(one.calls).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 });
    expect(twelve.calls).toEqual(one.calls);

    // Page after page: the same two calls each.
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await metered(() => myInvitations(fromTwelve, `?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      expect(page.response.status).toBe(200);
      expect(page.calls).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 });
      cursor = page.response.headers.get('x-next-cursor');
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
  });

  it('nobody invited: the one Query, no organization read', async () => {
    const nobody = await metered(() => myInvitations(user('nobody')));
    expect(nobody.response.body).toEqual([]);
    expect(nobody.calls).toEqual({ QueryCommand: 1 });
  });
});
