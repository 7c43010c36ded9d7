/**
 * Races beyond test/integration/concurrency.test.ts, against the local stack with the email
 * delivery running (the table stream feeds the delivery function, which writes to the same
 * invitation items while the races run):
 *
 * - 20 parallel creates of one address (case and spacing varied) create one invitation and
 *   send exactly ONE email;
 * - accept against decline, round after round: one winner, and the stored state, the
 *   membership and every later read agree with it;
 * - accept against resend: both orders are legal (resend then accept: both succeed; accept then
 *   resend: the resend is refused), but the final state must be one of those serializations:
 *   ACCEPTED with exactly one membership, no guard and no TTL, and a delivery sequence that says
 *   whether the resend happened first.
 *
 * Rate limits under parallel load across organizations: rate-limit-races.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { emailsTo, sleep, uniqueAddress, waitForEmails } from '../support/emails.ts';
import { invite, newOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { expectConsistentOrganization } from '../support/invariants.ts';
import { RELAXED_RATE_LIMITS, useTestStack, type ApiResponse } from '../support/stack.ts';
import { storedGuard, storedInvitations, storedMemberships } from '../support/table.ts';

const ROUNDS = 5;

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

// ---------------------------------------------------------------------------------------------
// Helpers

const rounds = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

/** The TTL an answer gives: respondedAt + ANSWERED_INVITATION_RETENTION_SECONDS (default, one year). */
const answeredTtl = (stored: Record<string, any>) => Math.floor(Date.parse(stored.respondedAt) / 1000) + 31_536_000;

function create(orgName: string, admin: TestUser, emails: string[]) {
  return stack.api.post(paths.invitations(orgName), { token: admin.token, body: { emails } });
}

function answer(invitee: TestUser, orgName: string, invitationId: string, status: 'ACCEPTED' | 'REJECTED') {
  return stack.api.put(paths.invitation(orgName, invitationId), { token: invitee.token, body: { status } });
}

function resend(orgId: number, admin: TestUser, invitationId: string) {
  return stack.api.post(paths.resend(orgId, invitationId), { token: admin.token });
}

/** Twenty spellings of one address (lower case): case of local part and domain, spaces and tabs around. */
function spellingsOf(address: string, count: number): string[] {
  const [local, domain] = address.split('@') as [string, string];
  const forms = [
    (l: string, d: string) => `${l}@${d}`,
    (l: string, d: string) => `${l.toUpperCase()}@${d.toUpperCase()}`,
    (l: string, d: string) => `  ${l}@${d}  `,
    (l: string, d: string) => `\t${l.toUpperCase()}@${d}`,
    (l: string, d: string) => `${l.replace(/^./, (c) => c.toUpperCase())}@${d}\t`,
    (l: string, d: string) => `${l}@${d.replace(/^./, (c) => c.toUpperCase())}`,
    (l: string, d: string) => ` \t${l.replace(/[aeiou]/g, (c) => c.toUpperCase())}@${d} `,
  ];
  return Array.from({ length: count }, (_, i) => forms[i % forms.length]!(local, domain));
}

function expectNoServerErrors(responses: ApiResponse[]) {
  expect(responses.filter((r) => r.status >= 500).map((r) => `${r.status} ${r.text}`)).toEqual([]);
}

async function listInvitations(orgName: string, admin: TestUser, status?: string): Promise<any[]> {
  const response = await stack.api.get(`${paths.invitations(orgName)}${status ? `?status=${status}` : ''}`, {
    token: admin.token,
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

async function organizationMemberIds(orgName: string, admin: TestUser): Promise<string[]> {
  const response = await stack.api.get(paths.organization(orgName), { token: admin.token });
  expect(response.status, response.text).toBe(200);
  return response.body.organizationMembers.map((m: any) => m.userId);
}

/** The one invitation stored for the invitee, with its membership items and guard. */
async function storedOutcome(orgId: number, invitee: TestUser) {
  const emailNormalized = invitee.email.toLowerCase();
  const invitations = await storedInvitations(stack, orgId, { emailNormalized });
  expect(invitations).toHaveLength(1);
  return {
    invitation: invitations[0]!,
    memberships: await storedMemberships(stack, orgId, { userId: invitee.sub }),
    guard: await storedGuard(stack, orgId, emailNormalized),
  };
}

// ---------------------------------------------------------------------------------------------

describe('20 parallel creates of one address', () => {
  it.each(rounds(3))('round %i: one invitation (API and table) and exactly one email', async () => {
    const { admin, id: orgId, name } = await newOrganization(stack, user);
    const address = uniqueAddress('race');
    const spellings = spellingsOf(address, 20);

    const responses = await Promise.all(spellings.map((email) => create(name, admin, [email])));

    expectNoServerErrors(responses);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const created = responses.flatMap((r) => r.body.invitations);
    expect(created).toHaveLength(1);
    expect(responses.flatMap((r) => r.body.skipped.map((s: any) => s.reason))).toEqual(Array(19).fill('ALREADY_INVITED'));

    const listed = (await listInvitations(name, admin)).filter((i) => i.userEmail.toLowerCase() === address);
    expect(listed.map((i) => [i.id, i.status])).toEqual([[created[0].id, 'PENDING']]);
    expect((await listInvitations(name, admin, 'PENDING')).map((i) => i.id)).toEqual([created[0].id]);
    const stored = await storedInvitations(stack, orgId, { emailNormalized: address });
    expect(stored.map((item) => item.id)).toEqual([created[0].id]);
    expect((await storedGuard(stack, orgId, address))?.invitationId).toBe(created[0].id);
    await expectConsistentOrganization(stack, orgId);

    // Exactly one email: wait for the first, then long enough for a duplicate to show up.
    const arrived = await waitForEmails(stack.sesEndpoint, [address], 1);
    expect(arrived, `emails to ${address}`).toHaveLength(1);
    await sleep(1_500);
    const emails = await emailsTo(stack.sesEndpoint, [address]);
    expect(emails, `emails to ${address} 1.5 s after the first`).toHaveLength(1);
    expect(emails[0]!.body.html ?? emails[0]!.body.text).toContain(created[0].id);
  });
});

describe('accept against decline', () => {
  it.each(rounds(ROUNDS))('round %i: one winner; stored status, membership and reads agree with it', async (round) => {
    const { admin, id: orgId, name } = await newOrganization(stack, user);
    const invitee = user('invitee');
    const invitation = (await invite(stack, admin, name, [invitee.email])).invitations[0];
    const order: Array<'ACCEPTED' | 'REJECTED'> = round % 2 === 0 ? ['ACCEPTED', 'REJECTED'] : ['REJECTED', 'ACCEPTED'];

    const responses = await Promise.all(order.map((status) => answer(invitee, name, invitation.id, status)));

    expectNoServerErrors(responses);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 400]);
    const winner = responses.findIndex((r) => r.status === 200);
    const won = order[winner]!;
    expect(responses[winner]!.body).toMatchObject({ id: invitation.id, status: won, userId: invitee.sub });
    expect(responses[1 - winner]!.body.message).toContain(`already status ${won}`);

    const { invitation: stored, memberships, guard } = await storedOutcome(orgId, invitee);
    expect(stored).toMatchObject({ status: won, userId: invitee.sub, respondedAt: responses[winner]!.body.respondedAt });
    expect(stored!.ttl, 'the answered TTL').toBe(answeredTtl(stored!));
    expect(guard).toBeUndefined();
    // Exactly one membership item when accepted, none when declined.
    expect(memberships.map((m) => m.associationType)).toEqual(won === 'ACCEPTED' ? ['MEMBER'] : []);
    expect((await organizationMemberIds(name, admin)).includes(invitee.sub)).toBe(won === 'ACCEPTED');
    await expectConsistentOrganization(stack, orgId);

    for (const reader of [invitee, admin]) {
      const seen = await stack.api.get(paths.invitation(name, invitation.id), { token: reader.token });
      expect(seen.status, seen.text).toBe(200);
      expect(seen.body.status).toBe(won);
    }
    // The answer is final: the loser's answer, tried again, is still refused.
    const again = await answer(invitee, name, invitation.id, won === 'ACCEPTED' ? 'REJECTED' : 'ACCEPTED');
    expect(again.status, again.text).toBe(400);
    expect((await storedOutcome(orgId, invitee)).invitation.status).toBe(won);
  });
});

describe('accept against resend', () => {
  it.each(rounds(ROUNDS))(
    'round %i: the final state is a legal serialization (resend → accept, or accept → refused resend)',
    async (round) => {
      const { admin, id: orgId, name } = await newOrganization(stack, user);
      const invitee = user('invitee');
      const invitation = (await invite(stack, admin, name, [invitee.email])).invitations[0];

      const [accepted, resent] =
        round % 2 === 0
          ? await Promise.all([answer(invitee, name, invitation.id, 'ACCEPTED'), resend(orgId, admin, invitation.id)])
          : await Promise.all([resend(orgId, admin, invitation.id), answer(invitee, name, invitation.id, 'ACCEPTED')]).then(
              ([r, a]) => [a, r] as const,
            );

      expectNoServerErrors([accepted, resent]);
      // The accept is legal in both orders, so it always succeeds.
      expect(accepted.status, accepted.text).toBe(200);
      expect(accepted.body).toMatchObject({ id: invitation.id, status: 'ACCEPTED', userId: invitee.sub });
      expect([200, 400], resent.text).toContain(resent.status);

      const { invitation: stored, memberships, guard } = await storedOutcome(orgId, invitee);
      // Never ACCEPTED without its membership, never a second membership item.
      expect(stored).toMatchObject({ status: 'ACCEPTED', userId: invitee.sub });
      expect(memberships.map((m) => m.associationType)).toEqual(['MEMBER']);
      // A resend serialized after the accept would have revived the guard or the TTL.
      expect(guard).toBeUndefined();
      expect(stored!.ttl, 'the answered TTL, not a pending one').toBe(answeredTtl(stored!));
      if (resent.status === 200) {
        // resend → accept: the resend's email request is stored, and it saw a PENDING invitation.
        expect(resent.body).toMatchObject({ id: invitation.id, status: 'PENDING', emailStatus: 'PENDING' });
        expect(stored.deliverySeq).toBe(2);
      } else {
        // accept → resend: refused, and nothing of it stored.
        expect(resent.body.message).toContain('already status ACCEPTED');
        expect(stored.deliverySeq).toBe(1);
      }
      expect((await organizationMemberIds(name, admin)).filter((id) => id === invitee.sub)).toHaveLength(1);
      await expectConsistentOrganization(stack, orgId);

      const seen = await stack.api.get(paths.invitation(name, invitation.id), { token: admin.token });
      expect(seen.body.status).toBe('ACCEPTED');
      const resentAgain = await resend(orgId, admin, invitation.id);
      expect(resentAgain.status, resentAgain.text).toBe(400);
      expect(resentAgain.body.message).toContain('already status ACCEPTED');
    },
  );
});
