/**
 * Races against the local stack: parallel requests (Promise.all of real HTTP calls through the
 * local gateway) must leave exactly one live invitation per address, exactly one answer per
 * invitation, and exactly one membership per accepted invitee. No race may surface as a 5xx.
 *
 * Each scenario runs several rounds, so a window that one round happens to miss is hit by another.
 */
import { describe, expect, it } from 'vitest';
import { invite, newOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack, type ApiResponse } from '../support/stack.ts';
import { expireInvitation, storedGuard, storedInvitations, storedMembership, storedMemberships } from '../support/table.ts';

const ROUNDS = 3;

const { stack, user } = useTestStack();

// ---------------------------------------------------------------------------------------------
// Helpers

function create(orgName: string, admin: TestUser, emails: string[]) {
  return stack.api.post(paths.invitations(orgName), { token: admin.token, body: { emails } });
}

function answer(invitee: TestUser, orgName: string, invitationId: string, status: 'ACCEPTED' | 'REJECTED') {
  return stack.api.put(paths.invitation(orgName, invitationId), { token: invitee.token, body: { status } });
}

const newOrg = () => newOrganization(stack, user);

/** Spellings of one address that all normalize to the same form. */
function variantsOf(local: string, count: number): string[] {
  const forms = [
    (a: string) => a,
    (a: string) => a.toUpperCase(),
    (a: string) => `  ${a}  `,
    (a: string) => `\t${a.toUpperCase()}`,
    (a: string) => a.replace(/^./, (c) => c.toUpperCase()),
  ];
  const address = `${local}@example.com`;
  return Array.from({ length: count }, (_, i) => forms[i % forms.length]!(address));
}

/** Invitation items stored in the organization's partition for one normalized address. */
const storedInvitationsFor = (orgId: number, emailNormalized: string) => storedInvitations(stack, orgId, { emailNormalized });

/** Membership items stored in the organization's partition for one user. */
const membershipItems = (orgId: number, userId: string) => storedMemberships(stack, orgId, { userId });

async function organizationMembers(orgName: string, admin: TestUser): Promise<any[]> {
  const response = await stack.api.get(paths.organization(orgName), { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body.organizationMembers;
}

async function listAll(orgName: string, admin: TestUser, status?: string): Promise<any[]> {
  const response = await stack.api.get(`${paths.invitations(orgName)}${status ? `?status=${status}` : ''}`, {
    token: admin.token,
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

function statusesOf(responses: ApiResponse[]) {
  return responses.map((r) => r.status);
}

const countOf = (values: unknown[], value: unknown) => values.filter((v) => v === value).length;

/** Fails with every response body when any response is a 5xx, so a lost race is visible. */
function expectNoServerErrors(responses: ApiResponse[]) {
  const failures = responses.filter((r) => r.status >= 500).map((r) => `${r.status} ${r.text}`);
  expect(failures).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

describe('parallel creates', () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    'round %i: 10 parallel invitations of one address (case and spacing varied) create exactly one',
    async () => {
      const { admin, id: orgId, name } = await newOrg();
      const local = `race-${Math.random().toString(36).slice(2, 10)}`;
      const normalized = `${local}@example.com`;
      const variants = variantsOf(local, 10);

      const responses = await Promise.all(variants.map((email) => create(name, admin, [email])));

      expectNoServerErrors(responses);
      expect(statusesOf(responses)).toEqual(Array(10).fill(201));
      const created = responses.flatMap((r) => r.body.invitations);
      expect(created).toHaveLength(1);
      // Every other request reports its own spelling (trimmed) as ALREADY_INVITED.
      responses.forEach((response, i) => {
        if (response.body.invitations.length === 1) {
          expect(response.body.skipped).toEqual([]);
          expect(response.body.invitations[0].userEmail).toBe(variants[i]!.trim());
        } else {
          expect(response.body).toEqual({
            invitations: [],
            skipped: [{ email: variants[i]!.trim(), reason: 'ALREADY_INVITED' }],
          });
        }
      });

      const pending = (await listAll(name, admin, 'PENDING')).filter((i) => i.userEmail.toLowerCase() === normalized);
      expect(pending.map((i) => i.id)).toEqual([created[0].id]);
      const stored = await storedInvitationsFor(orgId, normalized);
      expect(stored.map((item) => [item.id, item.status])).toEqual([[created[0].id, 'PENDING']]);
      expect((await storedGuard(stack, orgId, normalized))?.invitationId).toBe(created[0].id);
    },
  );

  it('10 parallel requests sharing one address and each adding its own create the shared one once and all the others', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const tag = Math.random().toString(36).slice(2, 10);
    const shared = variantsOf(`shared-${tag}`, 10);
    const own = Array.from({ length: 10 }, (_, i) => `own-${i}-${tag}@example.com`);

    const responses = await Promise.all(own.map((email, i) => create(name, admin, [shared[i]!, email])));

    expectNoServerErrors(responses);
    expect(statusesOf(responses)).toEqual(Array(10).fill(201));
    const created = responses.flatMap((r) => r.body.invitations.map((i: any) => i.userEmail.toLowerCase()));
    expect(created.sort()).toEqual([`shared-${tag}@example.com`, ...own].sort());
    expect(responses.flatMap((r) => r.body.skipped.map((s: any) => s.reason))).toEqual(Array(9).fill('ALREADY_INVITED'));

    expect(await storedInvitationsFor(orgId, `shared-${tag}@example.com`)).toHaveLength(1);
    for (const email of own) expect(await storedInvitationsFor(orgId, email)).toHaveLength(1);
    expect(await listAll(name, admin)).toHaveLength(11);
  });

  it('10 parallel re-invitations after the previous invitation expired create exactly one new invitation', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const local = `expired-${Math.random().toString(36).slice(2, 10)}`;
    const normalized = `${local}@example.com`;
    const old = (await invite(stack, admin, name, [normalized])).invitations[0];
    await expireInvitation(stack, orgId, old.id);

    const responses = await Promise.all(variantsOf(local, 10).map((email) => create(name, admin, [email])));

    expectNoServerErrors(responses);
    expect(statusesOf(responses)).toEqual(Array(10).fill(201));
    const created = responses.flatMap((r) => r.body.invitations);
    expect(created).toHaveLength(1);
    expect(responses.flatMap((r) => r.body.skipped.map((s: any) => s.reason))).toEqual(Array(9).fill('ALREADY_INVITED'));

    const live = (await listAll(name, admin, 'PENDING')).filter((i) => i.userEmail.toLowerCase() === normalized);
    expect(live.map((i) => i.id)).toEqual([created[0].id]);
    const stored = await storedInvitationsFor(orgId, normalized);
    expect(stored.map((item) => item.id).sort()).toEqual([old.id, created[0].id].sort());
    expect((await storedGuard(stack, orgId, normalized))?.invitationId).toBe(created[0].id);
  });
});

describe('parallel answers', () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    'round %i: 8 parallel accepts by the invitee: one 200, seven 400 "already ACCEPTED", one membership',
    async () => {
      const { admin, id: orgId, name } = await newOrg();
      const invitee = user('invitee');
      const invitation = (await invite(stack, admin, name, [invitee.email])).invitations[0];

      const responses = await Promise.all(
        Array.from({ length: 8 }, () => answer(invitee, name, invitation.id, 'ACCEPTED')),
      );

      expectNoServerErrors(responses);
      expect(countOf(statusesOf(responses), 200)).toBe(1);
      expect(countOf(statusesOf(responses), 400)).toBe(7);
      const winner = responses.find((r) => r.status === 200)!;
      expect(winner.body).toMatchObject({ id: invitation.id, status: 'ACCEPTED', userId: invitee.sub });
      for (const loser of responses.filter((r) => r.status === 400)) {
        expect(loser.body.message).toContain('already status ACCEPTED');
      }

      const members = (await organizationMembers(name, admin)).filter((m) => m.userId === invitee.sub);
      expect(members).toEqual([expect.objectContaining({ userId: invitee.sub, associationType: 'MEMBER' })]);
      expect(await membershipItems(orgId, invitee.sub)).toHaveLength(1);
      expect(await storedMembership(stack, orgId, invitee.sub)).toMatchObject({
        userId: invitee.sub,
        associationType: 'MEMBER',
        email: invitee.email,
      });
      const [stored] = await storedInvitationsFor(orgId, invitee.email.toLowerCase());
      expect(stored).toMatchObject({ status: 'ACCEPTED', userId: invitee.sub });
      expect(await storedGuard(stack, orgId, invitee.email.toLowerCase())).toBeUndefined();
    },
  );

  it('accept and reject racing on the same invitation: exactly one wins and the state matches the winner', async () => {
    const { admin, id: orgId, name } = await newOrg();
    const races = 6;
    const invitees = Array.from({ length: races }, () => user('invitee'));
    const { invitations } = await invite(stack, admin, name, invitees.map((i) => i.email));
    const invitationOf = (invitee: TestUser) => invitations.find((i: any) => i.userEmail === invitee.email)!;

    // All races at once; the order of the two requests alternates between races.
    const outcomes = await Promise.all(
      invitees.map(async (invitee, n) => {
        const id = invitationOf(invitee).id;
        const order: Array<'ACCEPTED' | 'REJECTED'> = n % 2 === 0 ? ['ACCEPTED', 'REJECTED'] : ['REJECTED', 'ACCEPTED'];
        const responses = await Promise.all(order.map((status) => answer(invitee, name, id, status)));
        return { invitee, id, order, responses };
      }),
    );

    const members = await organizationMembers(name, admin);
    for (const { invitee, id, order, responses } of outcomes) {
      expectNoServerErrors(responses);
      expect(statusesOf(responses).sort()).toEqual([200, 400]);
      const winnerIndex = responses.findIndex((r) => r.status === 200);
      const won = order[winnerIndex]!;
      const lost = responses[1 - winnerIndex]!;
      expect(responses[winnerIndex]!.body).toMatchObject({ id, status: won });
      expect(lost.body.message).toContain(`already status ${won}`);

      const [stored] = await storedInvitationsFor(orgId, invitee.email.toLowerCase());
      expect(stored).toMatchObject({ id, status: won, userId: invitee.sub });
      const isMember = members.some((m) => m.userId === invitee.sub);
      expect(isMember).toBe(won === 'ACCEPTED');
      expect(await membershipItems(orgId, invitee.sub)).toHaveLength(won === 'ACCEPTED' ? 1 : 0);
      const seen = await stack.api.get(paths.invitation(name, id), { token: invitee.token });
      expect(seen.status, seen.text).toBe(200);
      expect(seen.body.status).toBe(won);
    }
  });
});
