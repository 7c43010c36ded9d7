/**
 * Model-based test of the invitation lifecycle (fast-check commands): random sequences of create,
 * resend, answer (accept / reject / PENDING), get, list and clock advances run against the local
 * API (real authorizer and handlers, DynamoDB Local), and every response is compared with the
 * reference model in lifecycle-model.ts: status code, error message, and the whole body.
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
  NOT_ADMIN,
  expectAnswer,
  expectGet,
  expectResend,
  expectedList,
  initialModel,
  normalize,
  planCreate,
  viewOf,
  type ExpectedError,
  type InvitationStatus,
  type LifecycleModel,
  type ModelInvitation,
  type StatusFilter,
} from './lifecycle-model.ts';

const { stack } = useTestStack({ RATE_LIMIT_CREATE: '1000000/600', RATE_LIMIT_RESEND: '1000000/600' });

/** MODEL_RUNS=500 for a deeper search (the default keeps the file well under a minute). */
const NUM_RUNS = Number(process.env.MODEL_RUNS ?? 25);
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

interface Actor {
  readonly sub: string;
  readonly email: string;
  readonly username: string;
}

interface Real {
  readonly run: number;
  readonly orgName: string;
  readonly orgId: number;
  readonly admin: Actor;
  /** The four invitees; the last one's token email is spelled in mixed case. */
  readonly invitees: readonly Actor[];
  /** Signed in, member of nothing, never invited. */
  readonly stranger: Actor;
  /** Canonical (lower-case) addresses that creates draw from: the four invitees, then the admin. */
  readonly pool: readonly string[];
  readonly trace: string[];
}

const INVITEE_NAMES = ['ann', 'bob', 'cy', 'dora'] as const;
let runCounter = 0;

/** How often each kind of outcome was checked; printed with MODEL_STATS=1, to see what the runs cover. */
const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

/** A token minted now (on the faked clock): tokens live one hour, and the clock jumps days. */
function tokenFor(actor: Actor): string {
  return stack.issuer.token({ sub: actor.sub, email: actor.email, username: actor.username });
}

async function setupRun(trace: string[]): Promise<{ model: LifecycleModel; real: Real }> {
  const run = ++runCounter;
  trace.length = 0;
  vi.setSystemTime(vi.getRealSystemTime());
  const domain = `r${run}.example.com`;
  const salt = randomUUID().slice(0, 8);
  const admin: Actor = { sub: `admin-r${run}-${salt}`, email: `admin@${domain}`, username: `admin-r${run}` };
  const invitees = INVITEE_NAMES.map((name, i): Actor => ({
    sub: `${name}-r${run}-${salt}`,
    // The token of the last invitee spells the address differently from the pool's canonical form.
    email: i === INVITEE_NAMES.length - 1 ? `Dora@R${run}.Example.COM` : `${name}@${domain}`,
    username: name,
  }));
  const stranger: Actor = { sub: `stranger-r${run}-${salt}`, email: `stranger@${domain}`, username: 'stranger' };
  // PUBLIC: the model's non-admins (stranger, invitees) see it, so admin routes answer them 401;
  // the 404 of a PRIVATE organization to outsiders is covered by test/security and test/integration.
  const org = await createOrganization(stack, { ...admin, token: tokenFor(admin) }, { visibility: 'PUBLIC' });
  trace.push(`run ${run}: organization ${org.name} (id ${org.id}), admin ${admin.email}`);
  return {
    model: initialModel(admin.email),
    real: {
      run,
      orgName: org.name,
      orgId: org.id,
      admin,
      invitees,
      stranger,
      pool: [...INVITEE_NAMES.map((name) => `${name}@${domain}`), admin.email],
      trace,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Command parameters

/** One address of a create request: pool entry `who` (4 = the admin), with a casing and padding. */
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
  who: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constant(4) }),
  casing: fc.constantFrom('lower', 'upper', 'mixed'),
  mask: fc.nat(),
  lead: fc.constantFrom('', ' ', '\t', '  '),
  trail: fc.constantFrom('', ' ', ' \t'),
});

/** A known invitation (`back` from the newest, modulo their number) or an id nobody has. */
type Target = { readonly kind: 'known'; readonly back: number } | { readonly kind: 'unknown'; readonly id: string };

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 30 }).map((back): Target => ({ kind: 'known', back })) },
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

/** Who sends a request about an invitation. `other` is an invitee other than the invitation's. */
type By = 'invitee' | 'admin' | 'stranger' | 'other';
const byArb = (inviteeWeight: number): fc.Arbitrary<By> =>
  fc.oneof(
    { weight: inviteeWeight, arbitrary: fc.constant<By>('invitee') },
    { weight: 1, arbitrary: fc.constant<By>('admin') },
    { weight: 1, arbitrary: fc.constant<By>('stranger') },
    { weight: 1, arbitrary: fc.constant<By>('other') },
  );

function actorFor(r: Real, by: By, inv: ModelInvitation | undefined, offset: number): Actor {
  const own = inv === undefined ? -1 : r.invitees.findIndex((u) => normalize(u.email) === inv.email);
  switch (by) {
    case 'admin':
      return r.admin;
    case 'stranger':
      return r.stranger;
    case 'invitee':
      return r.invitees[Math.max(own, 0)]!;
    case 'other':
      return r.invitees[(own + 1 + offset) % r.invitees.length]!;
  }
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
  constructor(readonly spellings: readonly Spelling[]) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const emails = this.spellings.map((s) => spell(r.pool[s.who]!, s));
    const before = Date.now();
    const plan = planCreate(m, emails, before);
    const response = await stack.api.post(paths.invitations(r.orgName), { token: tokenFor(r.admin), body: { emails } });
    const after = Date.now();
    r.trace.push(`create ${JSON.stringify(emails)} → ${response.status} ${summarize(response.body, m)}`);
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
      if (earlier.some((i) => i.status === 'REJECTED')) count('create: re-invites after a rejection');
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
        expiresAt: expectExpiryFrom(body.expirationDate, before, after, `${what}: expirationDate`),
        createdAt: body.createdAt,
        invitedBy: r.admin.sub,
      };
      expect(body, what).toEqual(viewOf(inv, r.orgName));
      created.push(inv);
    });
    m.invitations.push(...created);
  }
  toString() {
    return `create(${JSON.stringify(this.spellings.map((s) => spell(s.who === 4 ? 'admin@rN.example.com' : `${INVITEE_NAMES[s.who]}@rN.example.com`, s)))})`;
  }
}

class ResendCmd implements Cmd {
  constructor(
    readonly target: Target,
    readonly by: 'admin' | 'invitee' | 'stranger',
  ) {}
  check = (m: Readonly<LifecycleModel>) => targetsSomething(m, this.target);
  async run(m: LifecycleModel, r: Real) {
    const { inv, id } = resolve(m, this.target);
    const caller = this.by === 'admin' ? r.admin : actorFor(r, this.by, inv, 0);
    const before = Date.now();
    const expected = this.by === 'admin' ? expectResend(inv, before) : NOT_ADMIN;
    const response = await stack.api.post(paths.resend(r.orgId, id), { token: tokenFor(caller) });
    const after = Date.now();
    r.trace.push(`resend ${label(m, id)} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    count(`resend by ${this.by} → ${expected === 'ok' ? 200 : `${expected.status} ${expected.message.source.slice(0, 24)}`}`);
    if (expected !== 'ok') return expectError(response, expected, `resend ${label(m, id)}`);
    expectOk(response, 200, 'resend');
    const expiresAt = expectExpiryFrom(response.body.expirationDate, before, after, 'resend: expirationDate');
    inv!.expiresAt = expiresAt;
    expect(response.body, 'resend: the invitation, with its new expiry').toEqual(viewOf(inv!, r.orgName));
  }
  toString() {
    return `resend(${showTarget(this.target)}, by ${this.by})`;
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
    const caller = actorFor(r, this.by, inv, this.offset);
    const before = Date.now();
    const expected = expectAnswer(inv, caller.email, before);
    const response = await stack.api.put(paths.invitation(r.orgName, id), {
      token: tokenFor(caller),
      body: { status: this.answer },
    });
    const after = Date.now();
    r.trace.push(`answer ${label(m, id)} ${this.answer} by ${this.by} (${caller.email}) → ${response.status} ${summarize(response.body, m)}`);
    const what = `answer ${label(m, id)} ${this.answer}`;
    count(`answer ${this.answer} by ${this.by} → ${expected === 'ok' ? 200 : `${expected.status} ${expected.message.source.slice(0, 24)}`}`);
    if (expected !== 'ok') return expectError(response, expected, what);
    expectOk(response, 200, what);
    if (this.answer !== 'PENDING') {
      expectStampedDuring(response.body.respondedAt, before, after, `${what}: respondedAt`);
      inv!.status = this.answer;
      inv!.userId = caller.sub;
      inv!.respondedAt = response.body.respondedAt;
      if (this.answer === 'ACCEPTED') m.members.add(inv!.email);
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
    const caller = actorFor(r, this.by, inv, this.offset);
    const expected = expectGet(inv, caller.email, this.by === 'admin', Date.now());
    const response = await stack.api.get(paths.invitation(r.orgName, id), { token: tokenFor(caller) });
    r.trace.push(`get ${label(m, id)} by ${this.by} → ${response.status} ${summarize(response.body, m)}`);
    const what = `get ${label(m, id)} by ${this.by}`;
    count(`get by ${this.by} → ${expected === 'ok' ? 200 : expected.status}`);
    if (expected !== 'ok') return expectError(response, expected, what);
    expectOk(response, 200, what);
    expect(response.body, what).toEqual(viewOf(inv!, this.by === 'admin' ? r.orgName : undefined));
  }
  toString() {
    return `get(${showTarget(this.target)}, by ${this.by}${this.by === 'other' ? `+${this.offset}` : ''})`;
  }
}

class ListCmd implements Cmd {
  constructor(
    readonly filter: StatusFilter | undefined,
    readonly limit: number | undefined,
    readonly by: 'admin' | 'invitee',
  ) {}
  check = () => true;
  async run(m: LifecycleModel, r: Real) {
    const caller = this.by === 'admin' ? r.admin : r.invitees[0]!;
    const before = Date.now();
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
      if (this.by !== 'admin') {
        count('list by a non-admin → 401');
        return expectError(response, NOT_ADMIN, 'list by a non-admin');
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
    return `list(${q}${this.by === 'admin' ? '' : ', by invitee'})`;
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

/** A short description of a response body for the trace. */
function summarize(body: any, m: LifecycleModel): string {
  if (Array.isArray(body)) return `[${body.map((i) => `${label(m, i.id)}:${i.status}`).join(', ')}]`;
  if (body && Array.isArray(body.invitations)) {
    return `created [${body.invitations.map((i: any) => `${i.id.slice(0, 8)} ${i.userEmail}`).join(', ')}] skipped ${JSON.stringify(body.skipped)}`;
  }
  if (body && typeof body.id === 'string') return `${body.status} expires ${body.expirationDate}`;
  return JSON.stringify(body);
}

// ---------------------------------------------------------------------------------------------

const commandArbs: fc.Arbitrary<Cmd>[] = [
  fc.array(spellingArb, { minLength: 1, maxLength: 3 }).map((s) => new CreateCmd(s)),
  fc.array(spellingArb, { minLength: 1, maxLength: 3 }).map((s) => new CreateCmd(s)),
  fc
    .tuple(
      targetArb,
      fc.oneof(
        { weight: 8, arbitrary: fc.constant<'admin'>('admin') },
        { weight: 1, arbitrary: fc.constantFrom<'invitee' | 'stranger'>('invitee', 'stranger') },
      ),
    )
    .map(([t, by]) => new ResendCmd(t, by)),
  ...[1, 2].map(() =>
    fc
      .tuple(
        targetArb,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom<InvitationStatus>('ACCEPTED', 'REJECTED') },
          { weight: 1, arbitrary: fc.constant<InvitationStatus>('PENDING') },
        ),
        byArb(6),
        fc.nat({ max: 2 }),
      )
      .map(([t, status, by, offset]) => new AnswerCmd(t, status, by, offset)),
  ),
  fc.tuple(targetArb, byArb(2), fc.nat({ max: 2 })).map(([t, by, offset]) => new GetCmd(t, by, offset)),
  fc
    .tuple(
      fc.option(fc.constantFrom<StatusFilter>('PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'), { freq: 2 }),
      fc.option(fc.constantFrom(1, 2, 5), { freq: 2 }),
      fc.oneof({ weight: 8, arbitrary: fc.constant<'admin'>('admin') }, { weight: 1, arbitrary: fc.constant<'invitee'>('invitee') }),
    )
    .map(([filter, limit, by]) => new ListCmd(filter ?? undefined, limit ?? undefined, by)),
  ...[1, 2].map(() =>
    fc.constantFrom(HOUR_MS, 3 * DAY_MS, 6 * DAY_MS + 23 * HOUR_MS, 8 * DAY_MS).map((ms) => new AdvanceCmd(ms)),
  ),
];

describe('invitation lifecycle against a reference model', () => {
  it('fakes only Date: timers and sockets still run, and the authorizer and handlers see the faked clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const admin: Actor = { sub: `clock-${randomUUID().slice(0, 8)}`, email: 'clock-admin@example.com', username: 'clock' };
    const staleToken = tokenFor(admin);
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50)); // a real timer: it fires
    expect(Date.now(), 'shouldAdvanceTime: the faked clock moves').toBeGreaterThan(t0);

    vi.advanceTimersByTime(8 * DAY_MS);
    expect(Date.now() - vi.getRealSystemTime()).toBeGreaterThanOrEqual(8 * DAY_MS - 1000);
    expect(Date.now() - vi.getRealSystemTime()).toBeLessThan(8 * DAY_MS + 60_000);

    // A token minted before the jump has expired for the authorizer; one minted now is fine.
    expect((await stack.api.get(paths.organizations, { token: staleToken })).status).toBe(401);
    const org = await createOrganization(stack, { ...admin, token: tokenFor(admin) }, { visibility: 'PUBLIC' });
    const before = Date.now();
    const response = await stack.api.post(paths.invitations(org.name), {
      token: tokenFor(admin),
      body: { emails: ['clock-invitee@example.com'] },
    });
    const after = Date.now();
    expect(response.status, response.text).toBe(201);
    const [invitation] = response.body.invitations;
    expectStampedDuring(invitation.createdAt, before, after, 'createdAt on the faked clock');
    expectExpiryFrom(invitation.expirationDate, before, after, 'expirationDate on the faked clock');
  });

  it(
    'agrees with the model on random sequences of create, resend, answer, get, list and clock advances',
    async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
          const trace: string[] = [];
          try {
            await fc.asyncModelRun(() => setupRun(trace), cmds);
          } catch (error) {
            if (error instanceof Error) error.message += `\n\nTrace of this run:\n  ${trace.join('\n  ')}`;
            throw error;
          }
        }),
        { numRuns: NUM_RUNS },
      );
    },
    600_000,
  );
});
