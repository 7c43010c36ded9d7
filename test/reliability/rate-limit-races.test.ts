/**
 * The per-user create limit under parallel load across organizations (RATE_LIMIT_CREATE=3/600),
 * beyond rate-limit.test.ts (one user, one organization): two users, each admin of their own
 * organization and both admins of a shared one, fire creates in parallel into both of their
 * organizations. Each gets exactly 3 through, wherever they went, and the rest 429 with nothing
 * written; a third admin of the shared organization, creating in the same burst, is untouched.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { uniqueAddress } from '../support/emails.ts';
import { createOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { expectConsistentOrganization } from '../support/invariants.ts';
import { RELAXED_RATE_LIMITS, useTestStack, type ApiResponse } from '../support/stack.ts';
import { addAdminMember, storedGuards, storedInvitations } from '../support/table.ts';

const CREATE_LIMIT = 3;
const WINDOW_SECONDS = 600;
const PER_ORGANIZATION = 4; // per user and organization: 8 requests per user, 3 allowed

const { stack, user } = useTestStack({ ...RELAXED_RATE_LIMITS, RATE_LIMIT_CREATE: `${CREATE_LIMIT}/${WINDOW_SECONDS}` });

/** Fixed windows aligned to the epoch: start each test well inside one (as rate-limit.test.ts does). */
beforeEach(async () => {
  const secondsLeft = WINDOW_SECONDS - ((Date.now() / 1000) % WINDOW_SECONDS);
  if (secondsLeft < 15) await new Promise((resolve) => setTimeout(resolve, (secondsLeft + 0.5) * 1000));
});

interface Attempt {
  readonly caller: TestUser;
  readonly org: { id: number; name: string };
  readonly email: string;
}

function create(attempt: Attempt): Promise<ApiResponse> {
  return stack.api.post(paths.invitations(attempt.org.name), { token: attempt.caller.token, body: { emails: [attempt.email] } });
}

/** Deterministic interleaving so neither user's requests all go first. */
function interleave<T>(...lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++) for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}

function expectRateLimited(response: ApiResponse) {
  expect(response.status, response.text).toBe(429);
  expect(response.body.status).toBe(429);
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(response.headers.get('x-ratelimit-limit')).toBe(String(CREATE_LIMIT));
  expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
}

describe(`create limit ${CREATE_LIMIT}/${WINDOW_SECONDS} under parallel creates across organizations`, () => {
  it.each([1, 2, 3])('round %i: exactly 3 × 201 per user wherever they went, the rest 429; a third admin is unaffected', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const carol = user('carol');
    const aliceOrg = await createOrganization(stack, alice);
    const bobOrg = await createOrganization(stack, bob);
    const shared = await createOrganization(stack, alice);
    await addAdminMember(stack, shared.id, bob);
    await addAdminMember(stack, shared.id, carol);
    const orgs = [aliceOrg, bobOrg, shared];

    const attemptsOf = (caller: TestUser, own: { id: number; name: string }) =>
      interleave(
        Array.from({ length: PER_ORGANIZATION }, () => ({ caller, org: own, email: uniqueAddress(`own-${caller.sub}`) })),
        Array.from({ length: PER_ORGANIZATION }, () => ({ caller, org: shared, email: uniqueAddress(`shared-${caller.sub}`) })),
      );
    const carolsAttempt: Attempt = { caller: carol, org: shared, email: uniqueAddress('carol') };
    const attempts = interleave(attemptsOf(alice, aliceOrg), attemptsOf(bob, bobOrg));
    attempts.splice(Math.floor(attempts.length / 2), 0, carolsAttempt);

    const responses = await Promise.all(attempts.map(create));

    const results = attempts.map((attempt, i) => ({ ...attempt, response: responses[i]! }));
    expect(responses.filter((r) => r.status >= 500).map((r) => r.text)).toEqual([]);
    for (const caller of [alice, bob]) {
      const mine = results.filter((r) => r.caller === caller);
      const allowed = mine.filter((r) => r.response.status === 201);
      expect(mine.map((r) => r.response.status).sort(), caller.sub).toEqual([
        ...Array(CREATE_LIMIT).fill(201),
        ...Array(2 * PER_ORGANIZATION - CREATE_LIMIT).fill(429),
      ]);
      expect(allowed.map((r) => r.response.headers.get('x-ratelimit-remaining')).sort()).toEqual(['0', '1', '2']);
      for (const { response } of allowed) {
        expect(response.headers.get('x-ratelimit-limit')).toBe(String(CREATE_LIMIT));
        expect(response.body.invitations).toHaveLength(1);
      }
      for (const { response } of mine.filter((r) => r.response.status !== 201)) expectRateLimited(response);
    }
    const carols = results.find((r) => r.caller === carol)!.response;
    expect(carols.status, carols.text).toBe(201);
    expect(carols.headers.get('x-ratelimit-remaining')).toBe(String(CREATE_LIMIT - 1));
    expect(carols.headers.get('x-ratelimit-limit')).toBe(String(CREATE_LIMIT));

    // Stored: exactly the allowed creates, per inviter and per organization; refused ones wrote nothing.
    const stored = (await Promise.all(orgs.map((org) => storedInvitations(stack, org.id)))).flat();
    const storedBy = (caller: TestUser) => stored.filter((item) => item.invitedBy === caller.sub);
    expect(storedBy(alice)).toHaveLength(CREATE_LIMIT);
    expect(storedBy(bob)).toHaveLength(CREATE_LIMIT);
    expect(storedBy(carol)).toHaveLength(1);
    expect(stored.map((item) => item.userEmail).sort()).toEqual(
      results.filter((r) => r.response.status === 201).map((r) => r.email).sort(),
    );
    for (const org of orgs) {
      const allowedHere = results.filter((r) => r.org.id === org.id && r.response.status === 201).length;
      expect(await storedInvitations(stack, org.id)).toHaveLength(allowedHere);
      expect(await storedGuards(stack, org.id)).toHaveLength(allowedHere);
      await expectConsistentOrganization(stack, org.id);
    }

    // Afterwards: alice and bob stay limited in every organization; carol has 1 left.
    expectRateLimited(await create({ caller: alice, org: aliceOrg, email: uniqueAddress() }));
    expectRateLimited(await create({ caller: bob, org: shared, email: uniqueAddress() }));
    const carolsSecond = await create({ caller: carol, org: shared, email: uniqueAddress('carol') });
    expect(carolsSecond.status, carolsSecond.text).toBe(201);
    expect(carolsSecond.headers.get('x-ratelimit-remaining')).toBe(String(CREATE_LIMIT - 2));
  });
});
