/**
 * Model-based test of the invitation lifecycle (fast-check commands): random sequences of create
 * (MEMBER or ADMIN invitations), resend, revoke, answer (accept / reject / PENDING), get, list,
 * member removal (by an admin, or leaving), role changes, reads of the organization and clock
 * advances, by the creator, admins, members, invitees and a stranger, in a PUBLIC or a PRIVATE
 * organization, run against the local API (real authorizer and handlers, DynamoDB Local). Every
 * response is compared with the reference model in lifecycle-model.ts: status code, error
 * message, and the whole body; after every step the organization's member list (userId,
 * username, email, associationType) must be the model's.
 *
 * A failure prints fast-check's seed and path, the shrunk command sequence and the run's trace;
 * replay it with MODEL_SEED=<seed> MODEL_PATH=<path>.
 *
 * Time: the handlers run in this process, so only `Date` is faked (timers and sockets stay real),
 * with shouldAdvanceTime so that it still moves between requests. Tokens are minted per request,
 * because the authorizer checks `exp` against the faked clock. Each run starts at the real time,
 * with a fresh organization and fresh invitee addresses, so runs never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createOrganization, paths } from '../support/fixtures.ts';
import { useTestStack, type ApiResponse } from '../support/stack.ts';
import {
  DAY_MS,
  EXPIRY_SECONDS,
  HOUR_MS,
  ORG_NOT_FOUND,
  applyAccept,
  canSee,
  expectAdminRoute,
  expectAnswer,
  expectGet,
  expectRemoveMember,
  expectResend,
  expectRevoke,
  expectRoleChange,
  expectedList,
  expectedMembers,
  initialModel,
  isLive,
  isMember,
  isOrgAdmin,
  planCreate,
  viewOf,
  type ExpectedError,
  type InvitationStatus,
  type LifecycleModel,
  type ModelInvitation,
  type Role,
  type StatusFilter,
  type Visibility,
} from './lifecycle-model.ts';

const { stack } = useTestStack({ RATE_LIMIT_CREATE: '1000000/600', RATE_LIMIT_RESEND: '1000000/600' });

/** MODEL_RUNS=500 for a deeper search (the default keeps the file well under a minute). */
const NUM_RUNS = Number(process.env.MODEL_RUNS ?? 40);
const MAX_COMMANDS = 25;

afterEach(() => {
  vi.useRealTimers();
});
afterAll(() => {
  vi.useRealTimers();
  if (process.env.MODEL_STATS) {
    console.log([...outcomes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${String(n).padStart(5)}  ${k}`).join('\n'));
  }
});

// ---------------------------------------------------------------------------------------------
// The system under test, per run

/** Someone with a token. `addresses`: the pool entries they own, each with the token's spelling of it. */
interface Person {
  readonly name: PersonName;
  readonly sub: string;
  readonly username: string;
  /** The email of their token, except when answering or reading an invitation to another of their addresses. */
  readonly email: string;
  readonly addresses: readonly { readonly canonical: string; readonly tokenEmail: string }[];
}

/**
 * The people of a run: the creator; ann (made an ADMIN member at setup), bob (a MEMBER); cy;
 * dora, whose token spells her address in mixed case; eve, a member from the start (MEMBER or
 * ADMIN), who has two addresses (as if she changed hers in the identity provider: her membership
 * keeps the first, so an invitation to the second reaches her as a member: that is how an ADMIN
 * invitation upgrades a member and a MEMBER invitation meets an ADMIN); a stranger, never invited.
 */
const PEOPLE = ['creator', 'ann', 'bob', 'cy', 'dora', 'eve', 'stranger'] as const;
type PersonName = (typeof PEOPLE)[number];
/** The pool of canonical addresses creates draw from, by index: ann..eve, eve's second, the creator's. */
const POOL_OWNERS = ['ann', 'bob', 'cy', 'dora', 'eve', 'eve', 'creator'] as const;
const CREATOR_POOL_INDEX = 6;

interface Real {
  readonly run: number;
  readonly orgName: string;
  readonly orgId: number;
  readonly people: Readonly<Record<PersonName, Person>>;
  /** Canonical (lower-case) addresses, see POOL_OWNERS. */
  readonly pool: readonly string[];
  readonly trace: string[];
}

let runCounter = 0;

/** How often each kind of outcome was checked; printed with MODEL_STATS=1, to see what the runs cover. */
const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
const outcome = (expected: ExpectedError | 'ok', ok: number) => (expected === 'ok' ? String(ok) : `${expected.status} ${expected.message.source.slice(1, 25)}`);

/** A token minted now (on the faked clock): tokens live one hour, and the clock jumps days. */
function tokenFor(person: Person, email = person.email): string {
  return stack.issuer.token({ sub: person.sub, email, username: person.username });
}

async function setupRun(visibility: Visibility, eve: EveSetup, trace: string[]): Promise<{ model: LifecycleModel; real: Real }> {
  const run = ++runCounter;
  trace.length = 0;
  vi.setSystemTime(vi.getRealSystemTime());
  const domain = `r${run}.example.com`;
  const salt = randomUUID().slice(0, 8);
  const person = (name: PersonName, ...addresses: { canonical: string; tokenEmail: string }[]): Person => ({
    name,
    sub: `${name}-r${run}-${salt}`,
    username: `${name}-r${run}`,
    email: addresses[0]?.tokenEmail ?? `${name}@${domain}`,
    addresses,
  });
  const plain = (local: string) => ({ canonical: `${local}@${domain}`, tokenEmail: `${local}@${domain}` });
  const people: Record<PersonName, Person> = {
    creator: person('creator', plain('creator')),
    ann: person('ann', plain('ann')),
    bob: person('bob', plain('bob')),
    cy: person('cy', plain('cy')),
    // The token spells the address differently from the pool's canonical form.
    dora: person('dora', { canonical: `dora@${domain}`, tokenEmail: `Dora@R${run}.Example.COM` }),
    eve: person('eve', plain('eve'), plain('eve.new')),
    stranger: person('stranger'),
  };
  const pool = POOL_OWNERS.map((owner, i) => people[owner].addresses[owner === 'eve' && i === 5 ? 1 : 0]!.canonical);
  const { creator } = people;
  const org = await createOrganization(stack, { ...creator, token: tokenFor(creator) }, { visibility });
  trace.push(`run ${run}: ${visibility} organization ${org.name} (id ${org.id}), creator ${creator.email}, eve ${JSON.stringify(eve)}`);
  const model = initialModel(visibility, creator);
  const real: Real = { run, orgName: org.name, orgId: org.id, people, pool, trace };
  // Roles from the start, through the API and checked like any step: ann an ADMIN member, bob a
  // MEMBER, eve a member by her first address, and invited at her second one (accepting it
  // upgrades her, or must not downgrade her; in some runs she accepts at once, so that every run
  // of the default size checks both rules).
  const spelled = (who: number): Spelling => ({ who, casing: 'lower', mask: 0, lead: '', trail: '' });
  await new CreateCmd('creator', [spelled(0)], 'ADMIN').run(model, real);
  await new CreateCmd('creator', [spelled(1)], undefined).run(model, real);
  await new CreateCmd('creator', [spelled(4)], eve.role).run(model, real);
  for (const back of [2, 1, 0]) await new AnswerCmd({ kind: 'known', back }, 'ACCEPTED', 'invitee', 0).run(model, real);
  await new CreateCmd('creator', [spelled(5)], eve.secondRole).run(model, real);
  expect(expectedMembers(model).map((ms) => `${ms.userId}:${ms.associationType}`).sort()).toEqual(
    [`${creator.sub}:ADMIN`, `${people.ann.sub}:ADMIN`, `${people.bob.sub}:MEMBER`, `${people.eve.sub}:${eve.role}`].sort(),
  );
  if (eve.acceptsSecondAtOnce) await new AnswerCmd({ kind: 'known', back: 0 }, 'ACCEPTED', 'invitee', 0).run(model, real);
  await expectMembersAgree(model, real, 'setup');
  return { model, real };
}

/** eve's membership at the start, the role of her invitation at her second address, and whether she accepts it at once. */
interface EveSetup {
  readonly role: Role;
  readonly secondRole: Role;
  readonly acceptsSecondAtOnce: boolean;
}

const eveSetupArb: fc.Arbitrary<EveSetup> = fc.record({
  role: fc.constantFrom<Role>('MEMBER', 'ADMIN'),
  secondRole: fc.constantFrom<Role>('MEMBER', 'ADMIN'),
  acceptsSecondAtOnce: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------
// Command parameters

/** One address of a create request: pool entry `who` (see POOL_OWNERS), with a casing and padding. */
interface Spelling {
  readonly who: number;
  readonly casing: 'lower' | 'upper' | 'mixed';
  readonly mask: number;
  readonly lead: string;
  readonly trail: string;
}

function spell(canonical: string, s: Spelling): string {
  const cased =
    s.casing === 'lower'
      ? canonical
      : s.casing === 'upper'
        ? canonical.toUpperCase()
        : [...canonical].map((c, i) => ((s.mask >> i % 30) & 1 ? c.toUpperCase() : c)).join('');
  return `${s.lead}${cased}${s.trail}`;
}

const spellingArb: fc.Arbitrary<Spelling> = fc.record({
  who: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }) },
    // eve's second address: the invitation that reaches an existing member.
    { weight: 4, arbitrary: fc.constant(5) },
    { weight: 1, arbitrary: fc.constant(CREATOR_POOL_INDEX) },
  ),
  casing: fc.constantFrom('lower', 'upper', 'mixed'),
  mask: fc.nat(),
  lead: fc.constantFrom('', ' ', '\t', '  '),
  trail: fc.constantFrom('', ' ', ' \t'),
});

/** A known invitation (`back` from the newest, modulo their number) or an id nobody has. */
type Target = { readonly kind: 'known'; readonly back: number } | { readonly kind: 'unknown'; readonly id: string };

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  // Mostly the newest few: what was just created is what is answered, revoked, resent next.
  { weight: 6, arbitrary: fc.nat({ max: 2 }).map((back): Target => ({ kind: 'known', back })) },
  { weight: 4, arbitrary: fc.nat({ max: 30 }).map((back): Target => ({ kind: 'known', back })) },
  { weight: 1, arbitrary: fc.uuid({ version: 4 }).map((id): Target => ({ kind: 'unknown', id })) },
);

/** Precondition: a known target needs an invitation to point at (fast-check skips the command otherwise). */
const targetsSomething = (m: Readonly<LifecycleModel>, target: Target) =>
  target.kind === 'unknown' || m.invitations.length > 0;

function resolve(m: LifecycleModel, target: Target): { inv: ModelInvitation | undefined; id: string } {
  if (target.kind === 'unknown') return { inv: undefined, id: target.id };
  const inv = m.invitations[m.invitations.length - 1 - (target.back % m.invitations.length)]!;
  return { inv, id: inv.id };
}

const showTarget = (t: Target) => (t.kind === 'known' ? `newest-${t.back}` : `unknown ${t.id}`);

/** Who calls an admin route: mostly the admins of the start, but anyone (roles change during a run). */
const callerArb: fc.Arbitrary<PersonName> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<PersonName>('creator', 'ann') },
  { weight: 3, arbitrary: fc.constantFrom<PersonName>(...PEOPLE) },
);

/** Who sends a request about an invitation: its invitee, another person than the invitee, or a named person. */
type By = 'invitee' | 'other' | PersonName;
const byArb = (inviteeWeight: number): fc.Arbitrary<By> =>
  fc.oneof(
    { weight: inviteeWeight, arbitrary: fc.constant<By>('invitee') },
    { weight: 1, arbitrary: fc.constant<By>('other') },
    { weight: 2, arbitrary: fc.constantFrom<By>(...PEOPLE) },
  );

/** The person an invitation's address belongs to, and the token email that names that address. */
function ownerOf(r: Real, inv: ModelInvitation | undefined): { person: Person; email: string } | undefined {
  if (!inv) return undefined;
  for (const person of Object.values(r.people)) {
    const address = person.addresses.find((a) => a.canonical === inv.email);
    if (address) return { person, email: address.tokenEmail };
  }
  return undefined;
}

/** The caller and their token email. `other`: a person other than the invitee (offset picks which). */
function callerFor(r: Real, by: By, inv: ModelInvitation | undefined, offset: number): { person: Person; email: string } {
  const own = ownerOf(r, inv);
  if (by === 'invitee') return own ?? { person: r.people.ann, email: r.people.ann.email };
  if (by === 'other') {
    const others = PEOPLE.filter((name) => name !== own?.person.name);
    const person = r.people[others[offset % others.length]!];
    return { person, email: person.email };
  }
  const person = r.people[by];
  // A named person who owns the address presents it (as the invitee would).
  return own?.person === person ? own : { person, email: person.email };
}

// ---------------------------------------------------------------------------------------------
// Checks

const label = (m: LifecycleModel, id: string) => {
  const index = m.invitations.findIndex((i) => i.id === id);
  return index < 0 ? id.slice(0, 8) : `i${index}`;
};

function expectError(response: ApiResponse, expected: ExpectedError, what: string) {
  expect(response.status, `${what}: ${response.text}`).toBe(expected.status);
  expect(response.body.message, what).toMatch(expected.message);
}

function expectOk(response: ApiResponse, status: number, what: string) {
  expect(response.status, `${what}: ${response.text}`).toBe(status);
}

/** An ISO timestamp taken by the service during the request [before, after]. */
function expectStampedDuring(iso: unknown, before: number, after: number, what: string) {
  expect(typeof iso, what).toBe('string');
  const t = Date.parse(iso as string);
  expect(new Date(t).toISOString(), `${what} is an ISO timestamp`).toBe(iso);
  expect(t, `${what} not before the request`).toBeGreaterThanOrEqual(before);
  expect(t, `${what} not after the response`).toBeLessThanOrEqual(after);
}

/** An expirationDate set during [before, after]: whole seconds, expiry seconds after that moment. */
function expectExpiryFrom(iso: unknown, before: number, after: number, what: string): number {
  expect(typeof iso, what).toBe('string');
  const ms = Date.parse(iso as string);
  expect(ms % 1000, `${what} is whole seconds`).toBe(0);
  const expiresAt = ms / 1000;
  expect(expiresAt, what).toBeGreaterThanOrEqual(Math.floor(before / 1000) + EXPIRY_SECONDS);
  expect(expiresAt, what).toBeLessThanOrEqual(Math.floor(after / 1000) + EXPIRY_SECONDS);
  return expiresAt;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<LifecycleModel, Real>;

class CreateCmd implements Cmd {
  constructor(
    readonly by: PersonName,
    readonly spellings: readonly Spelling[],
    readonly role: Role | undefined,
  ) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = r.people[this.by];
    const emails = this.spellings.map((s) => spell(r.pool[s.who]!, s));
    const before = Date.now();
    const access = expectAdminRoute(m, caller.sub);
    const plan = planCreate(m, emails, before);
    const body = { emails, ...(this.role !== undefined && { associationType: this.role }) };
    const response = await stack.api.post(paths.invitations(r.orgName), { token: tokenFor(caller), body });
    const after = Date.now();
    r.trace.push(`create ${JSON.stringify(emails)}${this.role ? ` as ${this.role}` : ''} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    if (access !== 'ok') {
      count(`create by a non-admin (${m.visibility}) → ${outcome(access, 201)}`);
      return expectError(response, access, `create by ${this.by}`);
    }
    expectOk(response, 201, 'create');
    count(`create 201: ${plan.create.length} created${plan.skipped.map((e) => `, ${e.reason}`).join('')}`);

    const { invitations, skipped } = response.body as { invitations: any[]; skipped: any[] };
    const bySkip = (a: { email: string }, b: { email: string }) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0);
    expect([...skipped].sort(bySkip), 'create: skipped').toEqual([...plan.skipped].sort(bySkip));
    expect(
      invitations.map((i) => i.userEmail),
      'create: the invitations created, in request order',
    ).toEqual(plan.create.map((e) => e.address));

    const latestCreatedAt = m.invitations.reduce((max, i) => (i.createdAt > max ? i.createdAt : max), '');
    for (const e of plan.create) {
      const earlier = m.invitations.filter((i) => i.email === e.normalized);
      if (earlier.some((i) => i.status === 'PENDING')) count('create: re-invites over an expired invitation');
      if (earlier.some((i) => i.status === 'REVOKED')) count('create: re-invites after a revocation');
      if (earlier.some((i) => i.status === 'REJECTED')) count('create: re-invites after a rejection');
      if (earlier.some((i) => i.status === 'ACCEPTED')) count('create: re-invites a former member');
    }
    const created: ModelInvitation[] = [];
    invitations.forEach((body, k) => {
      const what = `create: invitation ${k} (${body.userEmail})`;
      expect(body.id, what).toMatch(UUID);
      expect(m.invitations.some((i) => i.id === body.id) || created.some((i) => i.id === body.id), `${what}: fresh id`).toBe(false);
      expectStampedDuring(body.createdAt, before, after, `${what}: createdAt`);
      expect(body.createdAt >= latestCreatedAt, `${what}: createdAt not before earlier invitations'`).toBe(true);
      const inv: ModelInvitation = {
        id: body.id,
        email: plan.create[k]!.normalized,
        userEmail: plan.create[k]!.address,
        status: 'PENDING',
        associationType: this.role ?? 'MEMBER',
        expiresAt: expectExpiryFrom(body.expirationDate, before, after, `${what}: expirationDate`),
        createdAt: body.createdAt,
        invitedBy: caller.sub,
      };
      expect(body, what).toEqual(viewOf(inv, r.orgName));
      created.push(inv);
    });
    m.invitations.push(...created);
  }
  toString() {
    const owner = (who: number) => (who === CREATOR_POOL_INDEX ? 'creator' : who === 5 ? 'eve.new' : POOL_OWNERS[who]);
    return `create(${JSON.stringify(this.spellings.map((s) => spell(`${owner(s.who)}@rN.example.com`, s)))}${this.role ? `, ${this.role}` : ''}, by ${this.by})`;
  }
}

class ResendCmd implements Cmd {
  constructor(
    readonly target: Target,
    readonly by: PersonName,
  ) {}
  check = (m: Readonly<LifecycleModel>) => targetsSomething(m, this.target);
  async run(m: LifecycleModel, r: Real) {
    const { inv, id } = resolve(m, this.target);
    const caller = r.people[this.by];
    const before = Date.now();
    const expected = expectResend(m, caller.sub, inv, before);
    const response = await stack.api.post(paths.resend(r.orgId, id), { token: tokenFor(caller) });
    const after = Date.now();
    r.trace.push(`resend ${label(m, id)} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    count(`resend${isOrgAdmin(m, caller.sub) ? '' : ` by a non-admin (${m.visibility})`} → ${outcome(expected, 200)}`);
    if (expected !== 'ok') return expectError(response, expected, `resend ${label(m, id)} by ${this.by}`);
    expectOk(response, 200, 'resend');
    const expiresAt = expectExpiryFrom(response.body.expirationDate, before, after, 'resend: expirationDate');
    inv!.expiresAt = expiresAt;
    expect(response.body, 'resend: the invitation, with its new expiry').toEqual(viewOf(inv!, r.orgName));
  }
  toString() {
    return `resend(${showTarget(this.target)}, by ${this.by})`;
  }
}

class RevokeCmd implements Cmd {
  constructor(
    readonly target: Target,
    readonly by: PersonName,
  ) {}
  check = (m: Readonly<LifecycleModel>) => targetsSomething(m, this.target);
  async run(m: LifecycleModel, r: Real) {
    const { inv, id } = resolve(m, this.target);
    const caller = r.people[this.by];
    const nowMs = Date.now();
    const expected = expectRevoke(m, caller.sub, inv, nowMs);
    const response = await stack.api.delete(paths.invitation(r.orgName, id), { token: tokenFor(caller) });
    r.trace.push(`revoke ${label(m, id)} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    const state = inv === undefined ? 'unknown' : inv.status === 'PENDING' ? (isLive(inv, nowMs) ? 'live' : 'expired') : inv.status;
    count(`revoke ${state}${isOrgAdmin(m, caller.sub) ? '' : ` by a non-admin (${m.visibility})`} → ${outcome(expected, 204)}`);
    if (expected !== 'ok') return expectError(response, expected, `revoke ${label(m, id)} by ${this.by}`);
    expectOk(response, 204, `revoke ${label(m, id)}`);
    inv!.status = 'REVOKED';
  }
  toString() {
    return `revoke(${showTarget(this.target)}, by ${this.by})`;
  }
}

class AnswerCmd implements Cmd {
  constructor(
    readonly target: Target,
    readonly answer: InvitationStatus,
    readonly by: By,
    readonly offset: number,
  ) {}
  check = (m: Readonly<LifecycleModel>) => targetsSomething(m, this.target);
  async run(m: LifecycleModel, r: Real) {
    const { inv, id } = resolve(m, this.target);
    const { person, email } = callerFor(r, this.by, inv, this.offset);
    const before = Date.now();
    const expected = expectAnswer(inv, email, before);
    const response = await stack.api.put(paths.invitation(r.orgName, id), {
      token: tokenFor(person, email),
      body: { status: this.answer },
    });
    const after = Date.now();
    r.trace.push(`answer ${label(m, id)} ${this.answer} by ${person.name} (${email}) → ${response.status} ${summarize(response.body, m)}`);
    const what = `answer ${label(m, id)} ${this.answer} by ${person.name}`;
    const role = inv === undefined ? '' : ` ${inv.associationType} invitation${isMember(m, person.sub) ? ` by a${isOrgAdmin(m, person.sub) ? 'n admin' : ' member'}` : ''}`;
    count(`answer ${this.answer}${role} by ${this.by === 'invitee' ? 'the invitee' : 'someone'} → ${outcome(expected, 200)}`);
    if (expected !== 'ok') return expectError(response, expected, what);
    expectOk(response, 200, what);
    if (this.answer !== 'PENDING') {
      expectStampedDuring(response.body.respondedAt, before, after, `${what}: respondedAt`);
      inv!.status = this.answer;
      inv!.userId = person.sub;
      inv!.respondedAt = response.body.respondedAt;
      if (this.answer === 'ACCEPTED') applyAccept(m, inv!, { sub: person.sub, username: person.username, email });
    }
    expect(response.body, what).toEqual(viewOf(inv!));
  }
  toString() {
    return `answer(${showTarget(this.target)}, ${this.answer}, by ${this.by}${this.by === 'other' ? `+${this.offset}` : ''})`;
  }
}

class GetCmd implements Cmd {
  constructor(
    readonly target: Target,
    readonly by: By,
    readonly offset: number,
  ) {}
  check = (m: Readonly<LifecycleModel>) => targetsSomething(m, this.target);
  async run(m: LifecycleModel, r: Real) {
    const { inv, id } = resolve(m, this.target);
    const { person, email } = callerFor(r, this.by, inv, this.offset);
    const expected = expectGet(m, inv, { sub: person.sub, email }, Date.now());
    const response = await stack.api.get(paths.invitation(r.orgName, id), { token: tokenFor(person, email) });
    r.trace.push(`get ${label(m, id)} by ${person.name} (${email}) → ${response.status} ${summarize(response.body, m)}`);
    const what = `get ${label(m, id)} by ${person.name}`;
    const admin = isOrgAdmin(m, person.sub);
    count(`get by ${admin ? 'an admin' : this.by === 'invitee' ? 'the invitee' : 'someone else'} → ${outcome(expected, 200)}`);
    if (expected !== 'ok') return expectError(response, expected, what);
    expectOk(response, 200, what);
    expect(response.body, what).toEqual(viewOf(inv!, admin ? r.orgName : undefined));
  }
  toString() {
    return `get(${showTarget(this.target)}, by ${this.by}${this.by === 'other' ? `+${this.offset}` : ''})`;
  }
}

class ListCmd implements Cmd {
  constructor(
    readonly filter: StatusFilter | undefined,
    readonly limit: number | undefined,
    readonly by: PersonName,
  ) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = r.people[this.by];
    const before = Date.now();
    const access = expectAdminRoute(m, caller.sub);
    const query: Record<string, string> = {};
    if (this.filter !== undefined) query.status = this.filter;
    if (this.limit !== undefined) query.limit = String(this.limit);
    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const search = new URLSearchParams(cursor === null ? query : { ...query, cursor }).toString();
      const response: ApiResponse = await stack.api.get(`${paths.invitations(r.orgName)}${search ? `?${search}` : ''}`, {
        token: tokenFor(caller),
      });
      r.trace.push(`list ${search || '(all)'} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
      if (access !== 'ok') {
        count(`list by a non-admin (${m.visibility}) → ${outcome(access, 200)}`);
        return expectError(response, access, `list by ${this.by}`);
      }
      expectOk(response, 200, `list ${search}`);
      pages.push(response.body);
      cursor = response.headers.get('x-next-cursor');
      if (cursor !== null) expect(response.body, 'list: a page with a cursor is full').toHaveLength(this.limit!);
      expect(pages.length, 'list: paging terminates').toBeLessThanOrEqual(m.invitations.length + 1);
    } while (cursor !== null);

    const expected = expectedList(m, this.filter, before);
    const got = pages.flat();
    count(`list ${this.filter ?? '(all)'}${this.limit ? ` limit ${this.limit}` : ''}: ${expected.length === 0 ? 'empty' : pages.length > 1 ? 'several pages' : 'one page'}`);
    expect(
      got.map((i) => label(m, i.id)),
      `list ${this.filter ?? '(all)'}: which invitations, newest first`,
    ).toEqual(expected.map((i) => label(m, i.id)));
    expect(got, `list ${this.filter ?? '(all)'}: contents`).toEqual(expected.map((inv) => viewOf(inv, r.orgName)));
    if (this.limit !== undefined) {
      expect(pages.length, 'list: number of pages').toBe(Math.max(1, Math.ceil(expected.length / this.limit)));
    }
  }
  toString() {
    const q = [this.filter && `status=${this.filter}`, this.limit && `limit=${this.limit}`].filter(Boolean).join('&');
    return `list(${q}, by ${this.by})`;
  }
}

class RemoveMemberCmd implements Cmd {
  constructor(
    readonly by: PersonName,
    /** `self`: the caller leaves. */
    readonly target: PersonName | 'self',
  ) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = r.people[this.by];
    const target = this.target === 'self' ? caller : r.people[this.target];
    const expected = expectRemoveMember(m, caller.sub, target.sub);
    const response = await stack.api.delete(paths.member(r.orgName, target.sub), { token: tokenFor(caller) });
    r.trace.push(`remove ${target.name} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    const kind = caller === target ? 'leave' : `remove ${target.name === 'creator' ? 'the creator' : isOrgAdmin(m, target.sub) ? 'an admin' : isMember(m, target.sub) ? 'a member' : 'a non-member'}`;
    count(`${kind}${isOrgAdmin(m, caller.sub) ? ' by an admin' : ''} (${m.visibility}) → ${outcome(expected, 204)}`);
    if (expected !== 'ok') return expectError(response, expected, `remove ${target.name} by ${this.by}`);
    expectOk(response, 204, `remove ${target.name} by ${this.by}`);
    m.memberships.delete(target.sub);
  }
  toString() {
    return this.target === 'self' ? `leave(${this.by})` : `removeMember(${this.target}, by ${this.by})`;
  }
}

class ChangeRoleCmd implements Cmd {
  constructor(
    readonly by: PersonName,
    readonly target: PersonName,
    readonly role: Role,
  ) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = r.people[this.by];
    const target = r.people[this.target];
    const expected = expectRoleChange(m, caller.sub, target.sub);
    const response = await stack.api.request('PATCH', paths.member(r.orgName, target.sub), {
      token: tokenFor(caller),
      body: { associationType: this.role },
    });
    r.trace.push(`role of ${target.name} → ${this.role} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    const from = m.memberships.get(target.sub)?.associationType ?? 'non-member';
    count(`role ${target.name === 'creator' ? 'of the creator' : `${from} → ${this.role}`}${caller === target ? ' (own)' : ''} → ${outcome(expected, 200)}`);
    if (expected !== 'ok') return expectError(response, expected, `role of ${target.name} by ${this.by}`);
    expectOk(response, 200, `role of ${target.name} by ${this.by}`);
    m.memberships.get(target.sub)!.associationType = this.role;
    expect(response.body, 'role change: the member').toEqual(expectedMembers(m).find((ms) => ms.userId === target.sub));
  }
  toString() {
    return `changeRole(${this.target} → ${this.role}, by ${this.by})`;
  }
}

/** GET of the organization: visible or 404, and what the caller is (isMember, canEdit), and its members. */
class GetOrganizationCmd implements Cmd {
  constructor(readonly by: PersonName) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = r.people[this.by];
    const response = await stack.api.get(paths.organization(r.orgName), { token: tokenFor(caller) });
    r.trace.push(`get organization by ${this.by} → ${response.status}`);
    const visible = canSee(m, caller.sub);
    count(`get organization (${m.visibility}) by a ${isOrgAdmin(m, caller.sub) ? 'admin' : isMember(m, caller.sub) ? 'member' : 'non-member'} → ${visible ? 200 : 404}`);
    if (!visible) return expectError(response, ORG_NOT_FOUND, `get organization by ${this.by}`);
    expectOk(response, 200, `get organization by ${this.by}`);
    expect(
      { isMember: response.body.isMember, canEdit: response.body.canEdit, members: sortedMembers(response.body) },
      `get organization by ${this.by}`,
    ).toEqual({ isMember: isMember(m, caller.sub), canEdit: isOrgAdmin(m, caller.sub), members: expectedMembers(m) });
  }
  toString() {
    return `getOrganization(by ${this.by})`;
  }
}

class AdvanceCmd implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_m: LifecycleModel, r: Real) {
    vi.advanceTimersByTime(this.ms);
    r.trace.push(`${this.toString()} → ${new Date().toISOString()}`);
  }
  toString() {
    const days = Math.floor(this.ms / DAY_MS);
    const hours = (this.ms % DAY_MS) / HOUR_MS;
    return `advance(+${days ? `${days}d` : ''}${hours ? `${hours}h` : ''})`;
  }
}

const sortedMembers = (organization: any) =>
  [...(organization.organizationMembers ?? [])].sort((a: any, b: any) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));

/** After every step: the organization's member list (read by its creator, who always sees it) is the model's. */
async function expectMembersAgree(m: LifecycleModel, r: Real, after: string) {
  const response = await stack.api.get(paths.organization(r.orgName), { token: tokenFor(r.people.creator) });
  expectOk(response, 200, `the organization, after ${after}`);
  expect(sortedMembers(response.body), `organizationMembers after ${after}`).toEqual(expectedMembers(m));
}

/** Runs a command, then compares the organization's members with the model's. */
class ThenCheckMembers implements Cmd {
  constructor(readonly inner: Cmd) {}
  check = (m: Readonly<LifecycleModel>) => this.inner.check(m);
  async run(m: LifecycleModel, r: Real) {
    await this.inner.run(m, r);
    await expectMembersAgree(m, r, this.inner.toString());
  }
  toString() {
    return this.inner.toString();
  }
}

/** A short description of a response body for the trace. */
function summarize(body: any, m: LifecycleModel): string {
  if (body === undefined) return '';
  if (Array.isArray(body)) return `[${body.map((i) => `${label(m, i.id)}:${i.status}`).join(', ')}]`;
  if (body && Array.isArray(body.invitations)) {
    return `created [${body.invitations.map((i: any) => `${i.id.slice(0, 8)} ${i.userEmail} ${i.associationType}`).join(', ')}] skipped ${JSON.stringify(body.skipped)}`;
  }
  if (body && typeof body.id === 'string') return `${body.status} expires ${body.expirationDate}`;
  return JSON.stringify(body);
}

// ---------------------------------------------------------------------------------------------

const roleArb = fc.option(fc.constantFrom<Role>('MEMBER', 'ADMIN'), { nil: undefined, freq: 3 });
const memberTargetArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<PersonName | 'self'>('ann', 'bob', 'eve', 'dora', 'self') },
  { weight: 1, arbitrary: fc.constantFrom<PersonName | 'self'>(...PEOPLE) },
);

const commandArbs: fc.Arbitrary<Cmd>[] = [
  ...[1, 2].map(() =>
    fc
      .tuple(callerArb, fc.array(spellingArb, { minLength: 1, maxLength: 3 }), roleArb)
      .map(([by, s, role]) => new CreateCmd(by, s, role)),
  ),
  fc.tuple(targetArb, callerArb).map(([t, by]) => new ResendCmd(t, by)),
  fc.tuple(targetArb, callerArb).map(([t, by]) => new RevokeCmd(t, by)),
  ...[1, 2, 3].map(() =>
    fc
      .tuple(
        targetArb,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom<InvitationStatus>('ACCEPTED', 'REJECTED') },
          { weight: 1, arbitrary: fc.constant<InvitationStatus>('PENDING') },
        ),
        byArb(6),
        fc.nat({ max: 6 }),
      )
      .map(([t, status, by, offset]) => new AnswerCmd(t, status, by, offset)),
  ),
  fc.tuple(targetArb, byArb(2), fc.nat({ max: 6 })).map(([t, by, offset]) => new GetCmd(t, by, offset)),
  fc
    .tuple(
      fc.option(fc.constantFrom<StatusFilter>('PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'), { freq: 2 }),
      fc.option(fc.constantFrom(1, 2, 5), { freq: 2 }),
      callerArb,
    )
    .map(([filter, limit, by]) => new ListCmd(filter ?? undefined, limit ?? undefined, by)),
  fc.tuple(callerArb, memberTargetArb).map(([by, target]) => new RemoveMemberCmd(by, target)),
  fc
    .tuple(callerArb, fc.constantFrom<PersonName>(...PEOPLE), fc.constantFrom<Role>('MEMBER', 'ADMIN'))
    .map(([by, target, role]) => new ChangeRoleCmd(by, target, role)),
  fc.constantFrom<PersonName>(...PEOPLE).map((by) => new GetOrganizationCmd(by)),
  ...[1, 2].map(() =>
    fc.constantFrom(HOUR_MS, 3 * DAY_MS, 6 * DAY_MS + 23 * HOUR_MS, 8 * DAY_MS).map((ms) => new AdvanceCmd(ms)),
  ),
].map((arb) => arb.map((cmd): Cmd => new ThenCheckMembers(cmd)));

/** MODEL_SEED=<seed> (and MODEL_PATH=<path>) replays a failure fast-check reported. */
const replay =
  process.env.MODEL_SEED === undefined
    ? {}
    : { seed: Number(process.env.MODEL_SEED), ...(process.env.MODEL_PATH !== undefined && { path: process.env.MODEL_PATH }) };

describe('invitation lifecycle against a reference model', () => {
  it('fakes only Date: timers and sockets still run, and the authorizer and handlers see the faked clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const admin = { sub: `clock-${randomUUID().slice(0, 8)}`, email: 'clock-admin@example.com', username: 'clock' };
    const mint = () => stack.issuer.token(admin);
    const staleToken = mint();
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50)); // a real timer: it fires
    expect(Date.now(), 'shouldAdvanceTime: the faked clock moves').toBeGreaterThan(t0);

    vi.advanceTimersByTime(8 * DAY_MS);
    expect(Date.now() - vi.getRealSystemTime()).toBeGreaterThanOrEqual(8 * DAY_MS - 1000);
    expect(Date.now() - vi.getRealSystemTime()).toBeLessThan(8 * DAY_MS + 60_000);

    // A token minted before the jump has expired for the authorizer; one minted now is fine.
    expect((await stack.api.get(paths.organizations, { token: staleToken })).status).toBe(401);
    const org = await createOrganization(stack, { ...admin, token: mint() }, { visibility: 'PUBLIC' });
    const before = Date.now();
    const response = await stack.api.post(paths.invitations(org.name), {
      token: mint(),
      body: { emails: ['clock-invitee@example.com'] },
    });
    const after = Date.now();
    expect(response.status, response.text).toBe(201);
    const [invitation] = response.body.invitations;
    expectStampedDuring(invitation.createdAt, before, after, 'createdAt on the faked clock');
    expectExpiryFrom(invitation.expirationDate, before, after, 'expirationDate on the faked clock');
  });

  it(
    'agrees with the model on random sequences of create (with roles), resend, revoke, answer, get, list, member removal, role changes and clock advances, in PUBLIC and PRIVATE organizations',
    async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Visibility>('PUBLIC', 'PRIVATE'),
          eveSetupArb,
          fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: 'max' }),
          async (visibility, eve, cmds) => {
            const trace: string[] = [];
            try {
              await fc.asyncModelRun(() => setupRun(visibility, eve, trace), cmds);
            } catch (error) {
              if (error instanceof Error) error.message += `\n\nTrace of this run:\n  ${trace.join('\n  ')}`;
              throw error;
            }
          },
        ),
        { numRuns: NUM_RUNS, ...replay },
      );
    },
    600_000,
  );
});
