/**
 * Property-based fuzzing of every route through the real gateway, authorizer and handlers
 * (issue 5). Random seeds: fast-check prints the seed and the (shrunk) counterexample of a
 * failure; replay one with FUZZ_SEED=<seed> (and FUZZ_PATH=<path>) and `-t '<test name>'`.
 * FUZZ_RUNS=<factor> scales the runs; FUZZ_SCAN_EACH_RUN=1 checks the table around every run, so
 * that an unexplained write gets its own counterexample; FUZZ_STATS=1 prints the statuses seen.
 *
 * Every request carries a VALID token: an org admin of a real organization, a co-admin, a plain
 * member, an invitee, a stranger. For every response:
 * - never 5xx; always JSON with Content-Type application/json; errors are exactly
 *   `{status, message[, code]}` and leak no internals; unknown routes are the JSON 404;
 *   documented routes answer a status and body openapi.yaml documents (test/support/fuzz.ts);
 * - the status is one the route may legitimately give this caller for this input (per property).
 * After each property:
 * - the table (a full Scan before and after) changed only as the 2xx responses explain
 *   (WriteLedger): a request that must fail wrote nothing;
 * - no privilege changed: the fixture users' memberships and associationType, the organizations'
 *   creators, the fixture invitations' states, name → id consistency; no built-in prototype
 *   gained a property (handlers run in this process).
 */
import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import {
  bodyVerdict,
  checkResponse,
  describeChanges,
  diff,
  documentedOperations,
  fuzzBodies,
  fuzzHeaders,
  isPlainObject,
  labelled,
  pathSegment,
  prototypeFingerprint,
  queryString,
  rawRequest,
  reached,
  resolveRoute,
  scanTable,
  short,
  WriteLedger,
  type FuzzBody,
  type RawRequest,
  type RawResponse,
  type Snapshot,
} from '../support/fuzz.ts';
import { RELAXED_RATE_LIMITS, uniqueOrgName, useTestStack } from '../support/stack.ts';
import { routes } from '../../shared/deployment/routes.ts';
import { matchRoute } from '../../local/route-match.ts';
import { addAdminMember, expireInvitation } from '../support/table.ts';
import { normalizeEmail } from '../../shared/domain/email.ts';

const { stack, user } = useTestStack({
  ...RELAXED_RATE_LIMITS,
  RATE_LIMIT_CREATE: '100000/600',
  RATE_LIMIT_RESEND: '100000/600',
  RATE_LIMIT_CREATE_ORGANIZATION: '100000/600',
  RATE_LIMIT_UPDATE_ORGANIZATION: '100000/600',
});

/** The two read routes of the invitee and of the audit trail (not in fixtures' `paths`). */
const myInvitationsPath = '/v1/user/invitations';
const eventsPath = (orgName: string, invitationId: string) => `/v1/organizations/${orgName}/invitations/${invitationId}/events`;

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const replay = process.env.FUZZ_SEED === undefined
  ? {}
  : { seed: Number(process.env.FUZZ_SEED), ...(process.env.FUZZ_PATH !== undefined && { path: process.env.FUZZ_PATH }) };
const PROPERTY_TIMEOUT = 60_000;
/** FUZZ_SCAN_EACH_RUN=1: scan the table around every run instead of around every property. */
const SCAN_EACH_RUN = process.env.FUZZ_SCAN_EACH_RUN === '1';

// ---------------------------------------------------------------------------------------------
// Fixture

type Org = { id: number; name: string };
type Actor = TestUser & { role: 'admin' | 'coAdmin' | 'member' | 'invitee' | 'stranger' | 'creator' | 'impostor' | 'lookalike' | 'noEmail' };

/**
 * A (PRIVATE), created by `admin`: `coAdmin` is an ADMIN member (stored directly), `member` a
 * MEMBER (accepted invitation), `invitee` has a pending invitation, plus a rejected and an
 * expired invitation. S (PRIVATE), also created by `admin`, is the one whose name and details
 * the PATCH fuzz may really change. P (PUBLIC) belongs to `creator`, who also creates the
 * organizations of the create fuzz. `stranger` belongs to nothing. `impostor` has the invitee's
 * email, unverified; `lookalike` a verified Unicode lookalike of it (dotless ı for i).
 */
let A: Org;
let S: Org;
let P: Org;
let admin: Actor;
let coAdmin: Actor;
let member: Actor;
let invitee: Actor;
let stranger: Actor;
let impostor: Actor;
let lookalike: Actor;
let creator: Actor;
/** A token without an email claim (nothing can be addressed to it). */
let noEmail: Actor;
const inv = { pending: '', accepted: '', rejected: '', expired: '' };
/** The invitee's pending invitations in S and P (with inv.pending: three organizations, for "my invitations"). */
const invElsewhere = { S: '', P: '' };
/** Real X-Next-Cursors of the invitee's "my invitations", and of inv.accepted's events. */
let myCursors: string[] = [];
let eventCursors: string[] = [];
/** Memberships of the fixture users after setup: `${orgId}|${userId}` → associationType. */
let fixtureMemberships: Map<string, string>;
let orgItemA: Record<string, any>;
let realCursors: string[] = [];

/** Users whose tokens the claims fuzz made up; the organizations they create are theirs. */
const claimsUsers = new Set<string>();

const actor = (role: Actor['role'], name: string, claims: { email?: string; emailVerified?: boolean } = {}): Actor =>
  labelled({ ...user(name, claims), role });
// Actors print as their role in counterexamples (see labelled()).

beforeAll(async () => {
  admin = actor('admin', 'admin');
  coAdmin = actor('coAdmin', 'coadmin');
  member = actor('member', 'member');
  invitee = actor('invitee', 'invitee');
  stranger = actor('stranger', 'stranger');
  creator = actor('creator', 'creator');
  impostor = actor('impostor', 'impostor', { email: invitee.email, emailVerified: false });
  lookalike = actor('lookalike', 'lookalike', { email: invitee.email.replace(/i/g, '\u0131') });
  const noEmailSub = `noemail-${randomUUID().slice(0, 8)}`;
  noEmail = labelled({ sub: noEmailSub, email: '', token: stack.issuer.token({ sub: noEmailSub, username: 'noemail' }), role: 'noEmail' });
  A = await createOrganization(stack, admin, { visibility: 'PRIVATE' });
  S = await createOrganization(stack, admin, { name: uniqueOrgName('sacrificial'), visibility: 'PRIVATE' });
  P = await createOrganization(stack, creator, { name: uniqueOrgName('public'), visibility: 'PUBLIC' });
  await addAdminMember(stack, A.id, coAdmin, 'coadmin');

  const rejecter = user('rejecter');
  const created = await invite(stack, admin, A.name, [member.email, rejecter.email, 'expired-invitee@example.com']);
  const idOf = (email: string) => created.invitations.find((i) => i.userEmail === email).id as string;
  inv.accepted = idOf(member.email);
  inv.rejected = idOf(rejecter.email);
  inv.expired = idOf('expired-invitee@example.com');
  await answerInvitation(stack, member, A.name, inv.accepted, 'ACCEPTED');
  await answerInvitation(stack, rejecter, A.name, inv.rejected, 'REJECTED');
  await expireInvitation(stack, A.id, inv.expired);
  inv.pending = (await invite(stack, admin, A.name, [invitee.email])).invitations[0].id;
  invElsewhere.S = (await invite(stack, admin, S.name, [invitee.email])).invitations[0].id;
  invElsewhere.P = (await invite(stack, creator, P.name, [invitee.email])).invitations[0].id;

  // Real cursors, for the list fuzz to replay and mutate.
  for (const query of ['limit=1', 'limit=2', 'limit=1&status=PENDING', 'limit=1&status=EXPIRED']) {
    const res = await fetch(`${stack.url}${paths.invitations(A.name)}?${query}`, { headers: { authorization: `Bearer ${admin.token}` } });
    const cursor = res.headers.get('x-next-cursor');
    if (cursor) realCursors.push(cursor);
  }
  expect(realCursors.length).toBeGreaterThan(0);
  for (const query of ['limit=1', 'limit=2']) {
    const mine = await fetch(`${stack.url}${myInvitationsPath}?${query}`, { headers: { authorization: `Bearer ${invitee.token}` } });
    const events = await fetch(`${stack.url}${eventsPath(A.name, inv.accepted)}?${query}`, { headers: { authorization: `Bearer ${admin.token}` } });
    for (const [cursors, res] of [[myCursors, mine], [eventCursors, events]] as const) {
      const cursor = res.headers.get('x-next-cursor');
      if (cursor) cursors.push(cursor);
    }
  }
  // Three pending invitations; inv.accepted's trail has at least created and accepted.
  expect(myCursors.length, 'real cursors of my invitations').toBe(2);
  expect(eventCursors.length, 'real cursors of an audit trail').toBeGreaterThan(0);

  const snapshot = await scanTable(stack);
  fixtureMemberships = membershipsOf(snapshot, fixtureUserIds());
  orgItemA = snapshot.get(`ORG#${A.id}|ORG`)!;
});

const fixtureUserIds = () => new Set([admin.sub, coAdmin.sub, member.sub, invitee.sub, stranger.sub, impostor.sub, lookalike.sub]);
const everyone = (): Actor[] => [admin, coAdmin, member, invitee, stranger, impostor, lookalike];
const isOrgAdminOfA = (a: Actor) => a.role === 'admin' || a.role === 'coAdmin';

function membershipsOf(snapshot: Snapshot, userIds: Set<string>): Map<string, string> {
  const found = new Map<string, string>();
  for (const item of snapshot.values()) {
    if (typeof item.SK === 'string' && item.SK.startsWith('ORG#MEMBER#') && userIds.has(item.userId)) {
      found.set(`${item.orgId}|${item.userId}`, item.associationType);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Running a property

async function send(who: Actor, req: Omit<RawRequest, 'headers'> & { headers?: Record<string, string | undefined> }): Promise<[RawRequest, RawResponse]> {
  const full: RawRequest = { ...req, headers: { authorization: `Bearer ${who.token}`, ...req.headers } };
  const res = await rawRequest(stack.url, full);
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  noteRouteReached(full);
  return [full, res];
}

/**
 * Requests per route of shared/deployment/routes.ts (by id), as the gateway routes them: the
 * last test checks that every route of the table was fuzzed, so a new route fails it by name.
 */
const reachedRoutes = new Map<string, number>();
function noteRouteReached(req: RawRequest) {
  let pathname: string;
  try {
    pathname = new URL(req.path, 'http://localhost').pathname;
  } catch {
    return;
  }
  const id = matchRoute(req.method.toUpperCase(), pathname)?.route.id;
  if (id !== undefined) reachedRoutes.set(id, (reachedRoutes.get(id) ?? 0) + 1);
}

/** Statuses seen by the current property; FUZZ_STATS=1 prints them (to see what the fuzz reaches). */
let statuses = new Map<number, number>();

/**
 * Runs a property, then checks the table changed only as the ledger's 2xx responses explain,
 * that no privilege changed and no prototype was polluted.
 */
async function fuzz<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, run: (value: T, ledger: WriteLedger) => Promise<void>) {
  const before = await scanTable(stack);
  const prototypes = prototypeFingerprint();
  const ledger = new WriteLedger();
  statuses = new Map();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      if (!SCAN_EACH_RUN) return run(value, ledger);
      // Diagnosis mode: a write is pinned on the run (and shrunk counterexample) that made it.
      const start = await scanTable(stack);
      await run(value, ledger);
      const unexplained = ledger.unexplained(diff(start, await scanTable(stack)));
      if (unexplained.length > 0) throw new Error(`writes no 2xx response explains:\n${describeChanges(unexplained)}`);
    }),
    { numRuns, ...replay },
  );
  if (process.env.FUZZ_STATS) console.log(expect.getState().currentTestName, Object.fromEntries([...statuses].sort()));
  const after = await scanTable(stack);
  const unexplained = ledger.unexplained(diff(before, after));
  expect(unexplained, `writes no 2xx response explains:\n${describeChanges(unexplained)}`).toEqual([]);
  expect(prototypeFingerprint(), 'a built-in prototype was polluted').toBe(prototypes);
  expectPrivilegesUnchanged(after);
}

function expectPrivilegesUnchanged(after: Snapshot) {
  expect(membershipsOf(after, fixtureUserIds()), 'memberships of the fixture users').toEqual(fixtureMemberships);
  const orgA = after.get(`ORG#${A.id}|ORG`)!;
  expect({ ...orgA, updatedAt: undefined }, 'organization A').toEqual({ ...orgItemA, updatedAt: undefined });
  expect(after.get(`ORG#${S.id}|ORG`)?.creator?.id).toBe(admin.sub);
  expect(after.get(`ORG#${P.id}|ORG`)?.creator?.id).toBe(creator.sub);
  const invitation = (id: string) => after.get(`ORG#${A.id}|INV#${id}`)!;
  expect(invitation(inv.pending).status).toBe('PENDING');
  expect(invitation(inv.pending).userId).toBeUndefined();
  expect(invitation(inv.accepted)).toMatchObject({ status: 'ACCEPTED', userId: member.sub });
  expect(invitation(inv.rejected).status).toBe('REJECTED');
  expect(invitation(inv.expired).status).toBe('PENDING');
  expect(invitation(inv.expired).expiresAt * 1000).toBeLessThan(Date.now());
  expect(after.get(`ORG#${S.id}|INV#${invElsewhere.S}`)?.status).toBe('PENDING');
  expect(after.get(`ORG#${P.id}|INV#${invElsewhere.P}`)?.status).toBe('PENDING');
  // Current names and organizations stay a bijection; an old name (alias) stays with the
  // organization that had it, never its current name, reserved until a future time.
  const orgs = [...after.values()].filter((item) => item.SK === 'ORG' && String(item.PK).startsWith('ORG#'));
  const names = [...after.values()].filter((item) => item.SK === 'ORGNAME');
  for (const name of names) {
    const org = after.get(`ORG#${name.orgId}|ORG`);
    const text = String(name.PK).slice('ORGNAME#'.length);
    if (name.aliasUntil === undefined) {
      expect(org?.name, `${name.PK} points at organization ${name.orgId}`).toBe(text);
    } else {
      expect(org, `alias ${name.PK} of organization ${name.orgId}`).toBeDefined();
      expect(org?.name, `alias ${name.PK} is not the current name`).not.toBe(text);
      expect(name.aliasUntil * 1000, `alias ${name.PK} reserved ahead`).toBeGreaterThan(Date.now());
    }
  }
  for (const org of orgs) expect(after.get(`ORGNAME#${org.name}|ORGNAME`)?.orgId, `name of ${org.PK}`).toBe(org.id);
  // Creators are ADMIN members of their organizations, and only the create route made creators.
  for (const org of orgs) {
    expect(after.get(`${org.PK}|ORG#MEMBER#${org.creator.id}`)?.associationType, `creator of ${org.PK}`).toBe('ADMIN');
    if (![A.id, S.id].includes(org.id) && !claimsUsers.has(org.creator.id)) expect(org.creator.id, `creator of ${org.PK}`).toBe(creator.sub);
  }
}

/** The invitation ids of the table, by organization id. */
function invitationOrgs(snapshot: Snapshot): Map<string, number> {
  const found = new Map<string, number>();
  for (const item of snapshot.values()) if (String(item.SK).startsWith('INV#')) found.set(item.id, item.orgId);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Body oracles: inputs every route must refuse with 400, whatever the caller.

const NAME = /^[\w-]{3,200}$/;
const ORG_FIELDS = ['name', 'contactEmail', 'visibility', 'description'];

function orgBodyMustFail(value: unknown, partial: boolean): string | undefined {
  if (!isPlainObject(value)) return 'not an object';
  if (partial) {
    const unknown = Object.keys(value).filter((k) => !ORG_FIELDS.includes(k));
    if (unknown.length) return `unknown fields ${unknown.join(',')}`;
  }
  if (Object.hasOwn(value, 'id')) return 'id';
  if (typeof value.name !== 'string' || !NAME.test(value.name)) return 'name';
  if (typeof value.contactEmail !== 'string') return 'contactEmail';
  if (value.visibility !== 'PUBLIC' && value.visibility !== 'PRIVATE') return 'visibility';
  const d = value.description;
  if (d !== undefined && d !== null && (typeof d !== 'string' || d.length < 3 || d.length > 50_000)) return 'description';
  for (const field of ['contactPhone', 'website', 'address']) {
    const v = value[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return field;
  }
  return undefined;
}

/** The create options' bounds (README: expiresInSeconds 3600–2592000). */
const LIFETIME = { min: 3600, max: 2_592_000 };
const ROLES = ['MEMBER', 'ADMIN'];

/** The fields of a create body that are wrong (shape and options; email validity is the service's). */
function invitationsBodyErrors(value: unknown): string[] {
  if (!isPlainObject(value)) return ['not an object'];
  const wrong: string[] = [];
  const emails = value.emails;
  if (!Array.isArray(emails) || emails.length === 0 || emails.length > 10 || emails.some((e) => typeof e !== 'string')) wrong.push('emails');
  if (Object.hasOwn(value, 'associationType') && value.associationType !== undefined && !ROLES.includes(value.associationType as string)) {
    wrong.push('associationType');
  }
  const lifetime = value.expiresInSeconds;
  if (Object.hasOwn(value, 'expiresInSeconds') && lifetime !== undefined &&
    !(typeof lifetime === 'number' && Number.isInteger(lifetime) && lifetime >= LIFETIME.min && lifetime <= LIFETIME.max)) {
    wrong.push('expiresInSeconds');
  }
  if (Object.hasOwn(value, 'sendEmail') && value.sendEmail !== undefined && typeof value.sendEmail !== 'boolean') wrong.push('sendEmail');
  return wrong;
}

function invitationsBodyMustFail(value: unknown): string | undefined {
  return invitationsBodyErrors(value)[0];
}

/** A 400 for a body whose fields are wrong names one of them (`emails[2] ...` names emails). */
function expectNamesAWrongField(body: FuzzBody, checked: { status: number; body: any }) {
  const verdict = bodyVerdict(body);
  if (verdict.reject || checked.status !== 400) return;
  const wrong = invitationsBodyErrors(verdict.value).filter((field) => field !== 'not an object');
  if (wrong.length === 0) return;
  // Which addresses are valid is the service's call: one that does not even look like an address may be the one named.
  const emails = (verdict.value as { emails?: unknown }).emails;
  if (Array.isArray(emails) && emails.some((e) => typeof e === 'string' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e.trim()))) wrong.push('emails');
  expect(wrong.some((field) => checked.body.message.includes(field)), `400 "${checked.body.message}" names one of ${wrong.join(', ')}`).toBe(true);
}

const ANSWERS = ['PENDING', 'ACCEPTED', 'REJECTED'];
function answerBodyMustFail(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'not an object';
  if (typeof value.status !== 'string' || !ANSWERS.includes(value.status)) return 'status';
  return undefined;
}

/** Why the body must be refused (400), or undefined when the route may accept it. */
function mustFail(body: FuzzBody, content: (value: unknown) => string | undefined): string | undefined {
  const verdict = bodyVerdict(body);
  return verdict.reject ? verdict.why : content(verdict.value);
}

// ---------------------------------------------------------------------------------------------
// Field arbitraries (valid values), for records that mix valid and wrong fields.

const orgFields = () => ({
  name: fc.oneof(fc.stringMatching(/^[\w-]{3,30}$/), fc.constantFrom(A.name, S.name, P.name)),
  contactEmail: fc.oneof(fc.constant('contact@example.com'), fc.emailAddress()),
  visibility: fc.constantFrom('PUBLIC', 'PRIVATE'),
  description: fc.string({ minLength: 3, maxLength: 60 }),
});
const createOrgFields = () => ({
  ...orgFields(),
  contactPhone: fc.string({ maxLength: 20 }),
  website: fc.webUrl(),
  address: fc.string({ maxLength: 40 }),
});
const invitationFields = () => ({
  emails: fc.oneof(
    fc.array(fc.emailAddress(), { minLength: 1, maxLength: 10 }),
    fc.array(fc.constantFrom('a@b.co', ' A@B.CO ', member.email, admin.email, 'x@y'), { minLength: 1, maxLength: 3 }),
  ),
  ...invitationOptionFields(),
});
/** The create options, valid or just out of range / off the enum (fuzzBodies adds wrong types and huge strings). */
const invitationOptionFields = () => ({
  associationType: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('MEMBER', 'ADMIN') },
    { weight: 1, arbitrary: fc.constantFrom('OWNER', 'admin', 'Member', 'ADMIN ', '', 'REVOKED', 'MEMBER,ADMIN') },
  ),
  expiresInSeconds: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: LIFETIME.min, max: LIFETIME.max }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(0, -1, LIFETIME.min - 1, LIFETIME.max + 1, 3600.5, 1e21, Number.MAX_SAFE_INTEGER + 2, -0, 3601.0000001),
    },
  ),
  sendEmail: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 'false', 0, 1, null) }),
});
const answerFields = () => ({
  status: fc.constantFrom('PENDING', 'ACCEPTED', 'REJECTED'),
  id: fc.uuid(),
  userEmail: fc.constantFrom(invitee.email, stranger.email),
  userId: fc.constantFrom(stranger.sub, admin.sub),
  expirationDate: fc.constant('2999-01-01T00:00:00Z'),
});

/** 400 when the body must fail, else the statuses the route may give this caller. */
const statusesFor = (mustFailWhy: string | undefined, otherwise: number[]) => (mustFailWhy ? [400] : otherwise);

// ---------------------------------------------------------------------------------------------

describe('fuzz: bodies', () => {
  it('POST /v1/organizations: hostile bodies are 400; valid ones 201 (or 409 for a taken name), creating only that organization', { timeout: PROPERTY_TIMEOUT }, async () => {
    await fuzz(fuzzBodies(createOrgFields()), runs(80), async (body, ledger) => {
      const [req, res] = await send(creator, { method: 'POST', path: paths.organizations, headers: fuzzHeaders(body), body: body.body });
      const why = mustFail(body, (v) => orgBodyMustFail(v, false));
      const checked = checkResponse(req, res, statusesFor(why, [201, 400, 409]));
      ledger.note(checked, creator.sub);
      if (checked.status === 201) {
        const sent = bodyVerdict(body) as { value: any };
        expect(checked.body).toMatchObject({ name: sent.value.name, canEdit: true, isMember: true, creator: { id: creator.sub } });
        expect(res.headers.location).toBe(`/v1/organizations/${encodeURIComponent(sent.value.name)}`);
      }
    });
  });

  it('PATCH /v1/organizations/{id}/partial by non-admins of A: 400 for bad bodies, else 401 (member) / 404 (PRIVATE to others); nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(member, invitee, stranger), fuzzBodies(orgFields()));
    await fuzz(arb, runs(60), async ([who, body], ledger) => {
      const [req, res] = await send(who, { method: 'PATCH', path: `/v1/organizations/${A.id}/partial`, headers: fuzzHeaders(body), body: body.body });
      const why = mustFail(body, (v) => orgBodyMustFail(v, true));
      ledger.note(checkResponse(req, res, statusesFor(why, who.role === 'member' ? [400, 401] : [400, 404])), who.sub);
    });
  });

  it('PATCH /v1/organizations/{id}/partial by the admin of S: 400 for bad bodies; valid ones 200 or 409 (name taken), changing only S', { timeout: PROPERTY_TIMEOUT }, async () => {
    await fuzz(fuzzBodies(orgFields()), runs(60), async (body, ledger) => {
      const [req, res] = await send(admin, { method: 'PATCH', path: `/v1/organizations/${S.id}/partial`, headers: fuzzHeaders(body), body: body.body });
      const why = mustFail(body, (v) => orgBodyMustFail(v, true));
      const checked = checkResponse(req, res, statusesFor(why, [200, 400, 409]));
      ledger.note(checked, admin.sub);
      if (checked.status === 200) {
        const sent = bodyVerdict(body) as { value: any };
        expect(checked.body).toMatchObject({ id: S.id, name: sent.value.name, creator: { id: admin.sub } });
        S = { id: S.id, name: sent.value.name };
      }
    });
  });

  it('POST /v1/organizations/{org}/invitations by admins of A (with random Idempotency-Keys): 400 for bad bodies, 201 only for valid ones', { timeout: PROPERTY_TIMEOUT }, async () => {
    const key = fc.option(
      fc.oneof(
        fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 255 }),
        fc.constantFrom('', ' ', 'a b', '\u00e9', 'x'.repeat(256), '\t', 'k\u00ff'),
      ),
      { nil: undefined },
    );
    const arb = fc.tuple(fc.constantFrom(admin, coAdmin), fuzzBodies(invitationFields()), key);
    await fuzz(arb, runs(80), async ([who, body, idempotencyKey], ledger) => {
      const [req, res] = await send(who, {
        method: 'POST',
        path: paths.invitations(A.name),
        headers: { ...fuzzHeaders(body), 'idempotency-key': idempotencyKey },
        body: body.body,
      });
      const why = mustFail(body, invitationsBodyMustFail);
      const checked = checkResponse(req, res, statusesFor(why, [201, 400, 409, 422]));
      ledger.note(checked, who.sub);
      expectNamesAWrongField(body, checked);
      if (checked.status === 201) {
        const sent = (bodyVerdict(body) as { value: any }).value.emails.map((e: string) => e.trim().toLowerCase());
        for (const created of checked.body.invitations) expect(sent).toContain(created.userEmail.toLowerCase());
      }
    });
  });

  it('POST /v1/organizations/{org}/invitations by non-admins: 400 for bad bodies, else 401 (member) / 404 (PRIVATE to others); nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(member, invitee, stranger), fuzzBodies(invitationFields()));
    await fuzz(arb, runs(60), async ([who, body], ledger) => {
      const [req, res] = await send(who, { method: 'POST', path: paths.invitations(A.name), headers: fuzzHeaders(body), body: body.body });
      ledger.note(checkResponse(req, res, statusesFor(mustFail(body, invitationsBodyMustFail), [400, who === member ? 401 : 404])), who.sub);
    });
  });

  it('PUT /v1/organizations/{name}/invitations/{uuid} with hostile bodies: non-invitees 400/404, the invitee 400 or a no-op 200; nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    // The invitee never sends a final ACCEPTED/REJECTED here (that would be a legitimate write).
    const notAnAnswer = (body: FuzzBody) => {
      const verdict = bodyVerdict(body);
      return verdict.reject || !(isPlainObject(verdict.value) && ['ACCEPTED', 'REJECTED'].includes(verdict.value.status as string));
    };
    const arb = fc.oneof(
      fc.tuple(fc.constantFrom(admin, coAdmin, member, stranger, impostor, lookalike), fuzzBodies(answerFields())),
      fc.tuple(fc.constant(invitee), fuzzBodies(answerFields()).filter(notAnAnswer)),
    );
    await fuzz(arb, runs(80), async ([who, body], ledger) => {
      const [req, res] = await send(who, { method: 'PUT', path: paths.invitation(A.name, inv.pending), headers: fuzzHeaders(body), body: body.body });
      const why = mustFail(body, answerBodyMustFail);
      // The impostor (the invitee's email, unverified) is told to verify it: 400 code 1001.
      const checked = checkResponse(req, res, statusesFor(why, who === invitee ? [200] : who === impostor ? [400] : [404]));
      if (who === impostor && checked.status === 400 && !why) expect(checked.body.code).toBe(1001);
      ledger.note(checked, who.sub);
      if (checked.status === 200) expect(checked.body).toMatchObject({ id: inv.pending, status: 'PENDING' });
    });
  });

  it('POST .../resend ignores any body: random bodies and content types change nothing for non-admins', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(member, invitee, stranger), fuzzBodies(answerFields()), fc.constantFrom(inv.pending, inv.expired, inv.accepted));
    await fuzz(arb, runs(40), async ([who, body, id], ledger) => {
      const [req, res] = await send(who, { method: 'POST', path: paths.resend(A.id, id), headers: fuzzHeaders(body), body: body.body });
      ledger.note(checkResponse(req, res, who.role === 'member' ? [401] : [404]), who.sub);
    });
  });
});

describe('fuzz: create options, dry run and member bodies', () => {
  it('POST /v1/organizations/{org}/invitations by admins: a valid role (or lifetime) next to an invalid address is 400 naming emails; nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const invalid = fc.constantFrom('x@y', 'not an address', '', '@b.co', 'a@', 'a b@c.co', 'a@b..co', 'x'.repeat(300) + '@b.co', '<a@b.co>');
    const arb = fc.tuple(
      fc.constantFrom(admin, coAdmin),
      fc.array(fc.constantFrom('ok1@example.com', 'ok2@example.com', member.email), { maxLength: 4 }),
      invalid,
      fc.nat(),
      fc.record(invitationOptionFields(), { requiredKeys: [] }).filter((o) => invitationsBodyErrors({ emails: ['a@b.co'], ...o }).length === 0),
      fc.boolean(),
    );
    await fuzz(arb.map((t) => labelled(t)), runs(40), async ([who, valid, bad, at, options, dryRun], ledger) => {
      const emails = [...valid];
      emails.splice(at % (valid.length + 1), 0, bad);
      const [req, res] = await send(who, {
        method: 'POST',
        path: `${paths.invitations(A.name)}${dryRun ? '?dryRun=false' : ''}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ emails, ...options }),
      });
      const checked = checkResponse(req, res, [400]);
      ledger.note(checked, who.sub);
      expect(checked.body.message, 'names the entry').toMatch(/^emails\[\d+\] /);
    });
  });

  it('POST /v1/organizations/{org}/invitations?dryRun=…: admins get 200 (true) or 201 (false) or 400 (anything else, or a bad body); the dry run writes nothing', { timeout: PROPERTY_TIMEOUT }, async () => {
    const dryRunValue = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('true', 'false') },
      { weight: 3, arbitrary: fc.constantFrom('', 'TRUE', 'True', '1', '0', 'yes', 'true%20', '%20true', 'true,true', 'null', '%00', 'tru%65') },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 3_000 }).map((n) => 't'.repeat(n)) },
    );
    const query = fc.oneof(
      dryRunValue.map((v) => `dryRun=${v}`),
      fc.tuple(dryRunValue, dryRunValue).map(([a, b]) => `dryRun=${a}&dryRun=${b}`),
      fc.constantFrom('dryRun', 'dryrun=true', 'DRYRUN=true', 'dryRun[]=true'),
    );
    const arb = fc.tuple(fc.constantFrom(admin, coAdmin), query, fuzzBodies(invitationFields(), { jsonOnly: true }));
    await fuzz(arb, runs(60), async ([who, q, body], ledger) => {
      const [req, res] = await send(who, { method: 'POST', path: `${paths.invitations(A.name)}?${q}`, headers: fuzzHeaders(body), body: body.body });
      // What the handler sees: repeated parameters joined with commas.
      const params = new URLSearchParams(q);
      const dryRun = params.has('dryRun') ? params.getAll('dryRun').join(',') : undefined;
      const badQuery = dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false';
      // A dry run judges each address (an invalid one is reported, not refused): only the shape must fail.
      const why = badQuery ? 'dryRun' : mustFail(body, invitationsBodyMustFail);
      const ok = dryRun === 'true' ? [200, 400] : [201, 400, 409, 422];
      const checked = checkResponse(req, res, statusesFor(why, ok));
      ledger.note(checked, who.sub);
      if (badQuery && !bodyVerdict(body).reject) expect(checked.body.message, 'names dryRun').toContain('dryRun');
      if (!badQuery) expectNamesAWrongField(body, checked);
      if (checked.status === 200) expect(Array.isArray(checked.body.results), 'a dry run answers results').toBe(true);
    });
  });

  it('PATCH /v1/organizations/{org}/members/{userId} bodies: 400 naming associationType for a bad one; else admins 400 (the creator) / 404 (not a member), others 401/404; nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const memberFields = () => ({
      associationType: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('MEMBER', 'ADMIN') },
        { weight: 1, arbitrary: fc.constantFrom('OWNER', 'admin', 'CREATOR', '', 'ADMIN ', 'MEMBER,ADMIN') },
      ),
      userId: fc.constantFrom(admin.sub, coAdmin.sub),
    });
    // Never an admin naming an existing non-creator member (that is a legitimate write), nor a
    // member naming themself (a 401, but keep it simple): targets are the creator or non-members.
    const arb = fc.tuple(
      fc.constantFrom(admin, coAdmin, member, invitee, stranger),
      fc.constantFrom(admin.sub, stranger.sub, invitee.sub, 'nobody', 'x'.repeat(255)),
      fuzzBodies(memberFields()),
    );
    await fuzz(arb.map((t) => labelled(t)), runs(60), async ([who, target, body], ledger) => {
      const [req, res] = await send(who, { method: 'PATCH', path: paths.member(A.name, target), headers: fuzzHeaders(body), body: body.body });
      const verdict = bodyVerdict(body);
      const why = verdict.reject
        ? verdict.why
        : !isPlainObject(verdict.value) || !['MEMBER', 'ADMIN'].includes(verdict.value.associationType as string)
          ? 'associationType'
          : undefined;
      const otherwise = isOrgAdminOfA(who) ? [target === admin.sub ? 400 : 404] : [who === member ? 401 : 404];
      const checked = checkResponse(req, res, statusesFor(why, otherwise));
      ledger.note(checked, who.sub);
      if (why === 'associationType') expect(checked.body.message, 'names associationType').toContain('associationType');
    });
  });
});

describe('fuzz: error messages', () => {
  it('error messages are short and do not echo unbounded input (at most 512 characters)', { timeout: PROPERTY_TIMEOUT }, async () => {
    const MAX_MESSAGE = 512;
    // Many or long unknown fields next to valid ones, plus the generic hostile bodies.
    const unknownFields = fc
      .tuple(fc.record(orgFields()), fc.oneof(fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3000 }), hugeKey()))
      .map(([valid, keys]) => {
        const body: Record<string, unknown> = { ...valid };
        for (const key of keys) body[key] = 1;
        return labelled<FuzzBody>({ kind: 'unknown fields', contentType: 'application/json', body: JSON.stringify(body) });
      });
    const targets = () => [
      { who: admin, method: 'PATCH', path: `/v1/organizations/${S.id}/partial` },
      { who: member, method: 'PATCH', path: `/v1/organizations/${A.id}/partial` },
      { who: creator, method: 'POST', path: paths.organizations },
      { who: admin, method: 'POST', path: paths.invitations(A.name) },
      { who: stranger, method: 'PUT', path: paths.invitation(A.name, inv.pending) },
    ];
    const arb = fc.tuple(fc.constantFrom(...targets().map((t) => labelled(t))), fc.oneof(unknownFields, fuzzBodies(orgFields()), fuzzBodies(invitationFields())));
    await fuzz(arb, runs(40), async ([target, body], ledger) => {
      const [req, res] = await send(target.who, { method: target.method, path: target.path, headers: fuzzHeaders(body), body: body.body });
      const checked = checkResponse(req, res, [200, 201, 400, 401, 404, 409]);
      ledger.note(checked, target.who.sub);
      if (checked.status === 200 && target.path.endsWith(`/${S.id}/partial`)) S = { id: S.id, name: checked.body.name };
      if (checked.status >= 400) {
        expect(checked.body.message.length, `${target.method} ${target.path} → ${short(checked.body.message)}`).toBeLessThanOrEqual(MAX_MESSAGE);
      }
    });
  });
});

/** One unknown field whose name is 1 KB to 60 KB long. */
const hugeKey = () => fc.integer({ min: 1_000, max: 60_000 }).map((n) => ['k'.repeat(n)]);

describe('fuzz: paths', () => {
  const orgNames = () => [A.name, S.name, P.name];
  const orgIds = () => [String(A.id), String(S.id), String(P.id)];
  const invitationIds = () => [inv.pending, inv.accepted, inv.rejected, inv.expired];

  it('GET /v1/organizations/{name}: 200 only for organizations the caller may see, else 404', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(...everyone(), creator), pathSegment(orgNames()));
    await fuzz(arb, runs(80), async ([who, segment], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `/v1/organizations/${segment}` });
      const checked = checkResponse(req, res, [200, 404], 'GET /v1/organizations/{name}');
      ledger.note(checked, who.sub);
      if (checked.status === 200 && checked.route.operation?.template === '/v1/organizations/{name}') {
        expect(checked.body.name).toBe(checked.route.params.name);
        expect(checked.body.visibility === 'PUBLIC' || checked.body.isMember, `${who.role} saw PRIVATE ${checked.body.name}`).toBe(true);
        if (who === stranger) expect(checked.body.visibility).toBe('PUBLIC');
      }
    });
  });

  it('PATCH /v1/organizations/{id}/partial: random ids; only admins of the organization reach 200', { timeout: PROPERTY_TIMEOUT }, async () => {
    // A's own details: a 200 can only be A's admins re-saving A unchanged (updatedAt moves).
    const sameAsA = JSON.stringify({ name: A.name, contactEmail: orgItemA.contactEmail, visibility: orgItemA.visibility });
    const arb = fc.tuple(fc.constantFrom(admin, coAdmin, member, stranger), pathSegment(orgIds()));
    await fuzz(arb, runs(60), async ([who, segment], ledger) => {
      const [req, res] = await send(who, {
        method: 'PATCH',
        path: `/v1/organizations/${segment}/partial`,
        headers: { 'content-type': 'application/json' },
        body: sameAsA,
      });
      const checked = checkResponse(req, res, [200, 400, 401, 404, 409], 'PATCH /v1/organizations/{id}/partial');
      ledger.note(checked, who.sub);
      if (checked.status === 200) {
        expect(isOrgAdminOfA(who), `${who.role} updated organization ${checked.body.id}`).toBe(true);
        expect(checked.body.id).toBe(A.id);
      }
    });
  });

  it('POST /v1/organizations/{org}/invitations: random names; only admins reach 201, which invites nobody here', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(admin, coAdmin, member, stranger), pathSegment(orgNames()));
    await fuzz(arb, runs(60), async ([who, segment], ledger) => {
      const [req, res] = await send(who, {
        method: 'POST',
        path: `/v1/organizations/${segment}/invitations`,
        headers: { 'content-type': 'application/json' },
        // admin is a member of A and S: skipped as ALREADY_MEMBER wherever it lands.
        body: JSON.stringify({ emails: [admin.email] }),
      });
      const checked = checkResponse(req, res, [201, 401, 404], 'POST /v1/organizations/{orgName}/invitations');
      ledger.note(checked, who.sub);
      if (checked.status === 201) {
        expect(who === admin || (who === coAdmin && checked.route.params.orgName === A.name), `${who.role} created invitations`).toBe(true);
        expect(checked.body.invitations).toEqual([]);
      }
    });
  });

  it('GET /v1/organizations/{org}/invitations: random names; only admins of the organization reach 200', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(...everyone()), pathSegment(orgNames()), fc.constantFrom('', '?limit=5', '?status=PENDING'));
    const before = invitationOrgs(await scanTable(stack));
    await fuzz(arb, runs(60), async ([who, segment, query], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `/v1/organizations/${segment}/invitations${query}` });
      const checked = checkResponse(req, res, [200, 400, 401, 404], 'GET /v1/organizations/{orgName}/invitations');
      ledger.note(checked, who.sub);
      if (checked.status === 200 && checked.route.operation?.template === '/v1/organizations/{orgName}/invitations') {
        const orgName = checked.route.params.orgName;
        expect(who === admin || (who === coAdmin && orgName === A.name), `${who.role} listed ${orgName}`).toBe(true);
        const orgId = orgName === A.name ? A.id : S.id;
        for (const item of checked.body) expect(before.get(item.id), `invitation ${item.id} of ${orgName}`).toBe(orgId);
      }
    });
  });

  it('GET /v1/organizations/{name}/invitations/{uuid}: random names and ids; 200 only for the invitee or an admin, and only in its organization', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(...everyone()), pathSegment(orgNames(), 12), pathSegment(invitationIds(), 12));
    await fuzz(arb, runs(80), async ([who, org, id], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `/v1/organizations/${org}/invitations/${id}` });
      const checked = checkResponse(req, res, [200, 400, 404], 'GET /v1/organizations/{name}/invitations/{uuid}');
      ledger.note(checked, who.sub);
      if (checked.status === 200 && checked.route.operation?.template === '/v1/organizations/{name}/invitations/{uuid}') {
        expect(checked.route.params.name, 'the organization of the invitation').toBe(A.name);
        expect(invitationIds()).toContain(checked.body.id);
        expect(checked.route.params.uuid?.toLowerCase()).toBe(checked.body.id);
        const own = checked.body.userEmail.toLowerCase() === who.email.toLowerCase() && who !== impostor;
        expect(isOrgAdminOfA(who) || own, `${who.role} read ${checked.body.userEmail}'s invitation`).toBe(true);
      }
    });
  });

  it('PUT /v1/organizations/{name}/invitations/{uuid}: random names and ids; non-invitees (impostors included) never answer (400/404), nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(
      fc.constantFrom(admin, coAdmin, member, stranger, invitee, impostor, lookalike),
      pathSegment(orgNames(), 12),
      pathSegment(invitationIds(), 12),
      fc.constantFrom('ACCEPTED', 'REJECTED'),
    );
    await fuzz(arb, runs(80), async ([who, org, id, answer], ledger) => {
      // The invitee only ever sends PENDING (a no-op): a real answer would be a legitimate write.
      const status = who === invitee ? 'PENDING' : answer;
      const [req, res] = await send(who, {
        method: 'PUT',
        path: `/v1/organizations/${org}/invitations/${id}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
      });
      const checked = checkResponse(req, res, who === invitee ? [200, 400, 404] : [400, 404], 'PUT /v1/organizations/{name}/invitations/{uuid}');
      ledger.note(checked, who.sub);
      if (checked.status === 200) expect(checked.body).toMatchObject({ id: inv.pending, status: 'PENDING' });
    });
  });

  it('DELETE /v1/organizations/{name}/invitations/{uuid}: random names and ids; non-admins never revoke (400/401/404), nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(
      fc.constantFrom(member, stranger, invitee, impostor, lookalike),
      pathSegment(orgNames(), 12),
      pathSegment(invitationIds(), 12),
    );
    await fuzz(arb, runs(80), async ([who, org, id], ledger) => {
      const [req, res] = await send(who, { method: 'DELETE', path: `/v1/organizations/${org}/invitations/${id}` });
      const checked = checkResponse(req, res, [400, 401, 404], 'DELETE /v1/organizations/{name}/invitations/{uuid}');
      ledger.note(checked, who.sub);
    });
  });

  it('DELETE /v1/organizations/{orgName}/members/{userId}: random names and ids; nobody removes a member here (400/401/404), nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    // Admins name the creator or non-members only; non-admins anyone but themselves (a member
    // naming themself leaves: a legitimate write, see test/integration/members.test.ts).
    const arb = fc.oneof(
      fc.tuple(fc.constantFrom(admin, coAdmin), pathSegment(orgNames(), 12), pathSegment([admin.sub, stranger.sub, invitee.sub], 12)),
      fc.tuple(fc.constantFrom(member, invitee, stranger, impostor, lookalike), pathSegment(orgNames(), 12), pathSegment([admin.sub, coAdmin.sub, stranger.sub], 12)),
    );
    await fuzz(arb.map((t) => labelled(t)), runs(80), async ([who, org, userId], ledger) => {
      const [req, res] = await send(who, { method: 'DELETE', path: `/v1/organizations/${org}/members/${userId}` });
      const checked = checkResponse(req, res, [400, 401, 404], 'DELETE /v1/organizations/{orgName}/members/{userId}');
      ledger.note(checked, who.sub);
    });
  });

  it('PATCH /v1/organizations/{orgName}/members/{userId}: random names and ids; non-admins never change a role (400/401/404), nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(
      fc.constantFrom(member, invitee, stranger, impostor, lookalike),
      pathSegment(orgNames(), 12),
      pathSegment([admin.sub, coAdmin.sub, member.sub, stranger.sub], 12),
      fc.constantFrom('MEMBER', 'ADMIN'),
    );
    await fuzz(arb.map((t) => labelled(t)), runs(60), async ([who, org, userId, associationType], ledger) => {
      const [req, res] = await send(who, {
        method: 'PATCH',
        path: `/v1/organizations/${org}/members/${userId}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ associationType }),
      });
      const checked = checkResponse(req, res, [400, 401, 404], 'PATCH /v1/organizations/{orgName}/members/{userId}');
      ledger.note(checked, who.sub);
    });
  });

  it('POST /v1/organizations/{orgId}/invitations/{id}/resend: random ids; only admins of A resend, only the pending invitation', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.constantFrom(...everyone()), pathSegment(orgIds(), 12), pathSegment(invitationIds(), 12));
    await fuzz(arb, runs(80), async ([who, org, id], ledger) => {
      const [req, res] = await send(who, { method: 'POST', path: `/v1/organizations/${org}/invitations/${id}/resend` });
      const allowed = isOrgAdminOfA(who) ? [200, 400, 401, 404, 410] : [400, 401, 404];
      const checked = checkResponse(req, res, allowed, 'POST /v1/organizations/{orgId}/invitations/{id}/resend');
      ledger.note(checked, who.sub);
      if (checked.status === 200) expect(checked.body).toMatchObject({ id: inv.pending, status: 'PENDING' });
    });
  });
});

describe('fuzz: query strings', () => {
  const cursors = () =>
    fc.oneof(
      fc.constantFrom(...realCursors),
      // Real cursors, mutated.
      fc.tuple(fc.constantFrom(...realCursors), fc.nat(), fc.constantFrom(...'AZaz09-_=+/.%')).map(([c, i, ch]) => c.slice(0, i % c.length) + ch + c.slice((i % c.length) + 1)),
      fc.tuple(fc.constantFrom(...realCursors), fc.nat()).map(([c, i]) => c.slice(0, i % c.length)),
      // Forged: well-formed positions with random contents and organizations.
      fc
        .record({
          o: fc.oneof(fc.constantFrom(A.id, S.id, P.id), fc.integer(), fc.string({ maxLength: 4 })),
          s: fc.oneof(fc.string({ maxLength: 60 }).map((x) => `INV#${x}`), fc.constantFrom('INV#', 'ORG', `ORG#MEMBER#${admin.sub}`, `INV#${inv.pending}`)),
          l: fc.oneof(fc.string({ maxLength: 60 }).map((x) => `INV#${x}`), fc.constant('INV#\uffff'), fc.string({ unit: 'binary', maxLength: 20 })),
        })
        .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
      fc.base64String({ maxLength: 200 }),
      fc.integer({ min: 1000, max: 1100 }).map((n) => Buffer.from(JSON.stringify({ o: A.id, s: `INV#${'x'.repeat(n)}`, l: 'INV#' })).toString('base64url')),
    );

  it('GET /v1/organizations/{org}/invitations?…: admins get 200 (filtered, limited, newest first) or 400; members 400/401; others (A is PRIVATE) 400/404', { timeout: PROPERTY_TIMEOUT }, async () => {
    const arb = fc.tuple(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(admin, coAdmin) }, { weight: 1, arbitrary: fc.constantFrom(...everyone()) }), queryString(cursors()));
    const known = invitationOrgs(await scanTable(stack));
    await fuzz(arb, runs(100), async ([who, query], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `${paths.invitations(A.name)}?${query.text}` });
      const admin = isOrgAdminOfA(who);
      const refused = who === member ? 401 : 404;
      const checked = checkResponse(req, res, admin ? [200, 400] : [400, refused]);
      ledger.note(checked, who.sub);

      // What the gateway hands the handler: repeated parameters joined with commas.
      const params = new URLSearchParams(query.text.split('#')[0]);
      const value = (name: string) => (params.has(name) ? params.getAll(name).join(',') : undefined);
      const [status, emailStatus, limit, cursor, email, invitedBy] = ['status', 'emailStatus', 'limit', 'cursor', 'email', 'invitedBy'].map(value);
      const clean =
        (status === undefined || ['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'].includes(status)) &&
        (emailStatus === undefined || ['PENDING', 'SENT', 'FAILED', 'BOUNCED', 'COMPLAINED', 'NOT_NEEDED'].includes(emailStatus)) &&
        (limit === undefined || (/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100)) &&
        (email === undefined || ['a@b.co', ' A@B.CO '].includes(email)) &&
        (invitedBy === undefined || (invitedBy.length >= 1 && invitedBy.length <= 255)) &&
        cursor === undefined;
      // Surely invalid: the filters' values no request may have (besides the old ones').
      const invalidFilter =
        (email !== undefined && ['x@y', '@', 'not an address', 'a@b.co,c@d.co'].includes(email)) ||
        (invitedBy !== undefined && (invitedBy.length === 0 || invitedBy.length > 255));
      if (clean) expect(checked.status, 'a valid query').toBe(admin ? 200 : refused);
      if (invalidFilter && admin) {
        expect(checked.status, 'an invalid email/invitedBy filter').toBe(400);
        expect(checked.body.message, 'names a query parameter').toMatch(/email|invitedBy|status|emailStatus|limit|cursor/);
      }
      if (checked.status !== 200) return;

      const items = checked.body as any[];
      const now = Date.now();
      for (const item of items) {
        expect(known.get(item.id), `invitation ${item.id} is A's`).toBe(A.id);
        const expired = item.status === 'PENDING' && Date.parse(item.expirationDate) <= now;
        if (status === 'EXPIRED') expect(expired, `${item.id} is expired`).toBe(true);
        if (status === 'PENDING') expect(item.status === 'PENDING' && !expired, `${item.id} is pending`).toBe(true);
        if (status === 'ACCEPTED' || status === 'REJECTED') expect(item.status).toBe(status);
        if (emailStatus !== undefined) expect(item.emailStatus).toBe(emailStatus);
        if (email !== undefined) expect(item.userEmail.trim().toLowerCase(), 'the email filter').toBe(email.trim().toLowerCase());
        if (invitedBy !== undefined) expect(item.invitedBy, 'the invitedBy filter').toBe(invitedBy);
      }
      if (limit !== undefined) expect(items.length).toBeLessThanOrEqual(Number(limit));
      else expect(res.headers['x-next-cursor']).toBeUndefined();
      const created = items.map((i) => i.createdAt as string);
      expect(created, 'newest first').toEqual([...created].sort().reverse());
    });
  });
});

describe('fuzz: my invitations and the audit trail (reads)', () => {
  const LIMIT_VALUES = ['1', '2', '3', '100', '0', '101', '-1', '1.0', '05', '', ' 5', '5 ', '1e1', '0x10', '+1', '\u0661', '9'.repeat(30), 'null', '[]', '1,2', '%00'];
  const limitValue = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }).map(String) },
    { weight: 3, arbitrary: fc.constantFrom(...LIMIT_VALUES) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 3_000 }).map((n) => '9'.repeat(n)) },
  );
  /** `limit` and `cursor` (each absent, once, or rarely repeated) and sometimes a stray parameter. */
  const pageQuery = (cursors: fc.Arbitrary<string>) => {
    const repeated = (value: fc.Arbitrary<string>) =>
      fc.option(fc.oneof({ weight: 5, arbitrary: value.map((v) => [v]) }, { weight: 1, arbitrary: fc.tuple(value, value) }), { nil: undefined, freq: 3 });
    return fc
      .record({
        limit: repeated(limitValue),
        cursor: repeated(cursors),
        other: fc.option(fc.tuple(fc.constantFrom('Limit', 'CURSOR', 'cursor[]', 'status', 'offset', '__proto__', 'constructor'), fc.string({ maxLength: 8 })), {
          nil: undefined,
          freq: 3,
        }),
      })
      .map((q) => {
        const pairs: Array<[string, string]> = [
          ...(q.limit ?? []).map((v): [string, string] => ['limit', v]),
          ...(q.cursor ?? []).map((v): [string, string] => ['cursor', v]),
          ...(q.other ? [q.other] : []),
        ];
        return labelled({ pairs, text: pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') });
      });
  };
  /** What the handler sees (repeated parameters joined with commas) and whether the syntax alone refuses it. */
  function pageParameters(text: string) {
    const params = new URLSearchParams(text);
    const value = (name: string) => (params.has(name) ? params.getAll(name).join(',') : undefined);
    const limit = value('limit');
    const cursor = value('cursor');
    const badLimit = limit !== undefined && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100);
    const badCursor = cursor !== undefined && (cursor.length === 0 || cursor.length > 1024);
    return { limit, cursor, badLimit, badCursor, bad: badLimit || badCursor };
  }
  /** A 400 for a bad `limit`/`cursor` names the parameter. */
  function expectNamesParameter(checked: { status: number; body: any }, p: ReturnType<typeof pageParameters>) {
    expect(checked.status, 'a bad limit or cursor').toBe(400);
    const named = [...(p.badLimit ? ['limit'] : []), ...(p.badCursor ? ['cursor'] : [])];
    expect(named.some((name) => checked.body.message.includes(name)), `400 "${checked.body.message}" names ${named.join(' or ')}`).toBe(true);
  }
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');
  const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  /** Mutated and truncated real cursors, random base64, JSON of any shape, and cursors around the 1024 bound. */
  const hostileCursors = (real: string[]) =>
    fc.oneof(
      fc.tuple(fc.constantFrom(...real), fc.nat(), fc.constantFrom(...'AZaz09-_=+/.%,')).map(([c, i, ch]) => c.slice(0, i % c.length) + ch + c.slice((i % c.length) + 1)),
      fc.tuple(fc.constantFrom(...real), fc.nat()).map(([c, i]) => c.slice(0, i % c.length)),
      fc.jsonValue().map(base64url),
      fc.base64String({ maxLength: 200 }),
      fc.string({ maxLength: 20 }),
      fc.integer({ min: 1_020, max: 1_030 }).map((n) => 'A'.repeat(n)),
      fc.constantFrom('', ' ', 'null', 'e30', '%', '..'),
    );

  // "My invitations": a cursor carries a digest of the address it was issued for (the store's format).
  const digestOf = (email: string) => createHash('sha256').update(normalizeEmail(email)).digest('base64url').slice(0, 22);
  type MyCursor = { cursor: string; kind: 'real' | 'plausible' | 'hostile'; digestOf?: string };
  const myCursorValues = (): fc.Arbitrary<MyCursor> => {
    const real = decode(myCursors[0]!) as { a: string; o: number; s: string };
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...myCursors).map((cursor): MyCursor => ({ cursor, kind: 'real' })) },
      // A real position with the digest of a known address: only its owner may use it.
      {
        weight: 2,
        arbitrary: fc.constantFrom(invitee.email, stranger.email, admin.email, lookalike.email).map((email): MyCursor => ({
          cursor: base64url({ ...real, a: digestOf(email) }),
          kind: 'plausible',
          digestOf: normalizeEmail(email),
        })),
      },
      // Forged positions: other organizations, ids and sort keys, with the invitee's digest or not.
      {
        weight: 2,
        arbitrary: fc
          .record({
            a: fc.oneof(fc.constant(real.a), fc.string({ maxLength: 24 }), fc.constantFrom(null, 1)),
            o: fc.oneof(fc.constantFrom(real.o, A.id, S.id, P.id), fc.constantFrom(0, -1, 1.5, 2 ** 53, '1', null), fc.integer()),
            s: fc.oneof(
              fc.constant(real.s),
              fc.tuple(fc.date({ noInvalidDate: true }), fc.uuid()).map(([d, id]) => `${d.toISOString()}#${id}`),
              fc.constantFrom(`${real.s.toUpperCase()}`, real.s.split('#')[0]!, `${real.s}#x`, `INV#${inv.pending}`, '\uffff'),
              fc.string({ maxLength: 60 }),
            ),
          }, { requiredKeys: [] })
          .map((p): MyCursor => ({ cursor: base64url(p), kind: 'hostile' })),
      },
      { weight: 2, arbitrary: hostileCursors(myCursors).map((cursor): MyCursor => ({ cursor, kind: 'hostile' })) },
    );
  };

  it('GET /v1/user/invitations?limit=&cursor=: 400 naming a bad limit/cursor; 1001 for an unverified email; only the caller\'s own live invitations; nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const known = invitationOrgs(await scanTable(stack));
    const currentName = () => new Map([[A.id, A.name], [S.id, S.name], [P.id, P.name]]);
    const inviteesPending = [inv.pending, invElsewhere.S, invElsewhere.P];
    const who = fc.oneof({ weight: 3, arbitrary: fc.constant(invitee) }, { weight: 2, arbitrary: fc.constantFrom(...everyone(), noEmail, creator) });
    const cursorOf = new Map<string, MyCursor>();
    const cursors = myCursorValues().map((c) => (cursorOf.set(c.cursor, c), c.cursor));
    await fuzz(fc.tuple(who, pageQuery(cursors)), runs(120), async ([who, query], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `${myInvitationsPath}?${query.text}` });
      const checked = checkResponse(req, res, [200, 400], 'GET /v1/user/invitations');
      ledger.note(checked, who.sub);
      const p = pageParameters(query.text);
      if (p.bad) return expectNamesParameter(checked, p);
      if (who === noEmail) {
        // No address: nothing can be addressed to it, whatever the cursor (README "My invitations").
        expect(checked.status, 'a token without an email').toBe(200);
        expect(checked.body).toEqual([]);
        expect(res.headers['x-next-cursor']).toBeUndefined();
        return;
      }
      if (who === impostor) {
        expect(checked.status, 'an unverified email').toBe(400);
        expect(checked.body.code, 'EMAIL_NOT_VERIFIED').toBe(1001);
        return;
      }
      const own = normalizeEmail(who.email);
      const sent = p.cursor === undefined ? undefined : cursorOf.get(p.cursor) ?? { cursor: p.cursor, kind: 'hostile' as const };
      if (sent?.kind === 'real' || sent?.kind === 'plausible') {
        const mine = sent.kind === 'real' ? who === invitee : sent.digestOf === own;
        expect(checked.status, mine ? 'a cursor of the caller' : "another user's cursor").toBe(mine ? 200 : 400);
      } else if (sent === undefined) {
        expect(checked.status, 'a valid query').toBe(200);
      }
      if (checked.status === 400) {
        expect(checked.body.message, 'names the cursor').toContain('cursor');
        return;
      }
      const items = checked.body as any[];
      const now = Date.now();
      for (const item of items) {
        expect(normalizeEmail(item.userEmail), `invitation ${item.id} is addressed to the caller`).toBe(own);
        expect(item.status).toBe('PENDING');
        expect(Date.parse(item.expirationDate), `invitation ${item.id} is live`).toBeGreaterThan(now);
        expect(known.get(item.id), `invitation ${item.id} of organization ${item.orgId}`).toBe(item.orgId);
        expect(item.orgName, 'the current name').toBe(currentName().get(item.orgId));
        expect(item.link, "the invitee's view").toBeUndefined();
      }
      const created = items.map((i) => i.createdAt as string);
      expect(created, 'newest first').toEqual([...created].sort().reverse());
      expect(items.length).toBeLessThanOrEqual(p.limit === undefined ? 100 : Number(p.limit));
      if (who === invitee && p.cursor === undefined) {
        const expected = p.limit === undefined ? 3 : Math.min(3, Number(p.limit));
        expect(items.length, "the invitee's pending invitations, from three organizations").toBe(expected);
        for (const item of items) expect(inviteesPending).toContain(item.id);
      }
    });
  });

  it('GET .../invitations/{invitationId}/events: random names and ids; 200 only for admins of the invitation\'s organization; one 404 body for everything else', { timeout: PROPERTY_TIMEOUT }, async () => {
    // No oracle: an unknown organization, one the caller may not see, one they are a plain
    // member of, a public one, an unknown invitation: the same 404, byte for byte.
    const unknown = randomUUID();
    const probes: Array<[Actor, string]> = [
      [admin, eventsPath(uniqueOrgName('nowhere'), inv.pending)],
      [stranger, eventsPath(A.name, inv.pending)],
      [member, eventsPath(A.name, inv.accepted)],
      [invitee, eventsPath(A.name, inv.pending)],
      [stranger, eventsPath(P.name, invElsewhere.P)],
      [admin, eventsPath(A.name, unknown)],
      [admin, eventsPath(P.name, invElsewhere.P)],
      [coAdmin, eventsPath(S.name, invElsewhere.S)],
    ];
    const notFound = new Set<string>();
    for (const [who, path] of probes) {
      const [req, res] = await send(who, { method: 'GET', path });
      checkResponse(req, res, [404]);
      notFound.add(res.text);
    }
    expect([...notFound], 'one 404 body').toHaveLength(1);
    const [NOT_FOUND] = notFound;

    const orgOf = () => new Map([[A.name, A.id], [S.name, S.id], [P.name, P.id]]);
    const adminOf = (who: Actor, orgId: number) => (who === admin && (orgId === A.id || orgId === S.id)) || (who === coAdmin && orgId === A.id) || (who === creator && orgId === P.id);
    const known = invitationOrgs(await scanTable(stack));
    const ids = [inv.pending, inv.accepted, inv.rejected, inv.expired, invElsewhere.S, invElsewhere.P];
    const arb = fc.tuple(fc.constantFrom(...everyone(), creator, noEmail), pathSegment([A.name, S.name, P.name], 12), pathSegment(ids, 12));
    await fuzz(arb, runs(100), async ([who, org, id], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `/v1/organizations/${org}/invitations/${id}/events` });
      const intended = 'GET /v1/organizations/{orgName}/invitations/{invitationId}/events';
      const checked = checkResponse(req, res, [200, 400, 404], intended);
      ledger.note(checked, who.sub);
      if (!reached(checked, intended)) return;
      const { orgName, invitationId } = checked.route.params as { orgName: string; invitationId: string };
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(invitationId);
      if (checked.status === 400) {
        expect(uuid, `400 for a UUID: ${invitationId}`).toBe(false);
        expect(checked.body.message).toMatch(/invitation id/);
        return;
      }
      if (!uuid) expect.fail(`${checked.status} for a malformed invitation id ${short(invitationId)}`);
      const orgId = orgOf().get(orgName);
      const visible = orgId !== undefined && adminOf(who, orgId) && known.get(invitationId.toLowerCase()) === orgId;
      expect(checked.status, `${who.role} reading ${orgName}/${invitationId}`).toBe(visible ? 200 : 404);
      if (checked.status === 404) {
        expect(res.text, 'the one 404 body').toBe(NOT_FOUND);
        return;
      }
      expect(checked.body.length, 'every invitation here has a trail').toBeGreaterThan(0);
      for (const event of checked.body) {
        expect(event.orgId).toBe(orgId);
        if (event.invitationId !== undefined) expect(event.invitationId).toBe(invitationId.toLowerCase());
      }
    });
  });

  it('GET .../invitations/{invitationId}/events?limit=&cursor=: 400 naming a bad limit/cursor; another invitation\'s cursor is 400; non-admins 404; nothing written', { timeout: PROPERTY_TIMEOUT }, async () => {
    const real = decode(eventCursors[0]!) as { o: number; i: string; s: string };
    type EventCursor = { cursor: string; kind: 'real' | 'plausible' | 'hostile' };
    const cursorOf = new Map<string, EventCursor>();
    const values = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...eventCursors).map((cursor): EventCursor => ({ cursor, kind: 'real' })) },
      {
        weight: 2,
        arbitrary: fc
          .record({
            o: fc.oneof(fc.constantFrom(real.o, S.id, P.id), fc.constantFrom(0, -1, '1', null), fc.integer()),
            i: fc.oneof(fc.constantFrom(real.i, inv.pending, real.i.toUpperCase()), fc.uuid(), fc.string({ maxLength: 40 })),
            s: fc.oneof(
              fc.constant(real.s),
              fc.constantFrom(`${real.s}\uffff`, real.s.replace(real.i, inv.pending), real.s.split('#')[0]!, `#invitation/${real.i}/`, `ORG#MEMBER#${admin.sub}`),
              fc.string({ maxLength: 60 }).map((x) => `${x}#invitation/${real.i}/${x}`),
              fc.string({ maxLength: 60 }),
            ),
          }, { requiredKeys: [] })
          .map((p): EventCursor => ({ cursor: base64url(p), kind: p.o === real.o && p.i === real.i && p.s === real.s ? 'plausible' : 'hostile' })),
      },
      { weight: 2, arbitrary: hostileCursors(eventCursors).map((cursor): EventCursor => ({ cursor, kind: 'hostile' })) },
    );
    const cursors = values.map((c) => (cursorOf.set(c.cursor, c), c.cursor));
    const arb = fc.tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom(admin, coAdmin) }, { weight: 1, arbitrary: fc.constantFrom(member, invitee, stranger, creator) }),
      fc.oneof({ weight: 3, arbitrary: fc.constant(inv.accepted) }, { weight: 1, arbitrary: fc.constantFrom(inv.pending, inv.expired) }, { weight: 1, arbitrary: fc.uuid() }),
      pageQuery(cursors),
    );
    const known = invitationOrgs(await scanTable(stack));
    await fuzz(arb, runs(100), async ([who, id, query], ledger) => {
      const [req, res] = await send(who, { method: 'GET', path: `${eventsPath(A.name, id)}?${query.text}` });
      const checked = checkResponse(req, res, [200, 400, 404], 'GET /v1/organizations/{orgName}/invitations/{invitationId}/events');
      ledger.note(checked, who.sub);
      const p = pageParameters(query.text);
      // The query is read before access is decided: a bad one is 400 for anyone.
      if (p.bad) return expectNamesParameter(checked, p);
      if (!isOrgAdminOfA(who)) {
        expect(checked.status, `${who.role} reading A's trail`).toBe(404);
        return;
      }
      const exists = known.get(id) === A.id;
      const sent = p.cursor === undefined ? undefined : cursorOf.get(p.cursor) ?? { cursor: p.cursor, kind: 'hostile' as const };
      if (sent === undefined) expect(checked.status, 'no cursor').toBe(exists ? 200 : 404);
      else if (sent.kind !== 'hostile') expect(checked.status, sent.kind === 'real' ? 'a real cursor' : 'a cursor of the same position').toBe(id === real.i ? 200 : 400);
      else expect([200, 400], 'a forged cursor').toContain(checked.status);
      if (checked.status === 404) return;
      if (checked.status === 400) {
        expect(checked.body.message, 'names the cursor').toContain('cursor');
        return;
      }
      const events = checked.body as any[];
      expect(events.length).toBeLessThanOrEqual(p.limit === undefined ? 100 : Number(p.limit));
      for (const event of events) {
        expect(event.orgId).toBe(A.id);
        if (event.invitationId !== undefined) expect(event.invitationId).toBe(id);
      }
      const times = events.map((e) => e.time as string);
      expect(times, 'oldest first').toEqual([...times].sort());
      if (sent === undefined && id === inv.accepted && (p.limit === undefined || Number(p.limit) >= 10)) {
        expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['invitation.created', 'invitation.accepted']));
      }
    });
  });
});

describe('fuzz: methods, unknown routes, headers and tokens', () => {
  it('random methods and paths: unknown routes are the JSON 404, known ones a documented status; nothing written unexplained', { timeout: PROPERTY_TIMEOUT }, async () => {
    const vocabulary = () =>
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('v1', 'organizations', 'user', 'invitations', 'resend', 'partial', A.name, String(A.id), inv.pending, inv.expired) },
        { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '', 'V1', 'v2', 'ORGANIZATIONS', 'organization', 'members', 'users', '%00', '%2F', '$default', 'admin', 'swagger.json', 'openapi.yaml', '.env', 'health') },
        { weight: 1, arbitrary: pathSegment([A.name, inv.pending]) },
      );
    const randomPath = fc
      .tuple(fc.constantFrom('/v1', '/v1/organizations', '/v1/user', '/', '/v2', '/V1', '/api/v1', ''), fc.array(vocabulary(), { maxLength: 5 }), fc.constantFrom('', '/', '?a=1', '?status=PENDING&limit=1', '/?', '#x'))
      .map(([prefix, segments, suffix]) => `${prefix}/${segments.join('/')}${suffix}`);
    // Documented paths with real or hostile variables, sometimes bent (extra, missing or
    // upper-cased segment, trailing slash), under any method.
    const real = [A.name, S.name, P.name, String(A.id), String(S.id), inv.pending, inv.expired, inv.accepted];
    const variable = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: pathSegment(real) });
    const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
    const anyMethod = fc.constantFrom(...METHODS);
    const templatePath = fc
      .constantFrom(...documentedOperations())
      .chain((op) =>
        fc.tuple(
          fc.oneof({ weight: 3, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: anyMethod }),
          fc.tuple(...op.pathTemplate.split('/').map((part) => (/^\{\w+\}$/.test(part) ? variable : fc.constant(part)))),
          fc.constantFrom('as is', 'as is', 'as is', 'as is', 'trailing slash', 'extra segment', 'missing segment', 'upper case'),
        ),
      )
      .map(([method, parts, bend]) => {
        const bent = [...parts];
        if (bend === 'extra segment') bent.push('x');
        if (bend === 'missing segment') bent.pop();
        if (bend === 'upper case') bent[2] = bent[2]!.toUpperCase();
        return [method, bent.join('/') + (bend === 'trailing slash' ? '/' : '')] as const;
      });
    const methodAndPath = fc
      .oneof(fc.tuple(anyMethod, randomPath), templatePath)
      // A leading "//" has its own property below.
      .map(([method, target]) => [method, target.replace(/^\/+/, '/')] as const)
      // Well under Node's 16 KB header limit (its 431 would not be the service's answer).
      .filter(([, target]) => target.length <= 8_000);
    const body = fc.option(
      fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.constantFrom('{"status":"ACCEPTED"}', '{"emails":["a@b.co"]}', '{"name":"x"}')),
      { nil: undefined },
    );
    const arb = fc.tuple(fc.constantFrom(admin, coAdmin, member, stranger), methodAndPath, body);
    await fuzz(arb.map((t) => labelled(t)), runs(100), async ([who, [method, target], json], ledger) => {
      // An admin's DELETE of an invitation of A would revoke a fixture every property relies on;
      // revoking by non-admins is fuzzed below, by admins in test/integration/revoke-invitation.test.ts.
      if ((who === admin || who === coAdmin) && resolveRoute(method, target).operation?.method === 'DELETE') return;
      const hasBody = json !== undefined && method !== 'GET' && method !== 'HEAD';
      const [req, res] = await send(who, {
        method,
        path: target,
        headers: hasBody ? { 'content-type': 'application/json' } : {},
        body: hasBody ? json : undefined,
      });
      const checked = checkResponse(req, res, [200, 201, 400, 401, 404, 409, 410, 422]);
      ledger.note(checked, who.sub);
      if (!resolveRoute(method, target).operation && method !== 'HEAD') {
        expect(checked.body, `${method} ${target}`).toEqual({ status: 404, message: expect.any(String) });
      }
      if (checked.status === 200 && checked.route.operation?.template === '/v1/organizations/{name}' && who === stranger) {
        expect(checked.body.visibility).toBe('PUBLIC');
      }
    });
  });

  it('request targets starting with "//": JSON 404 (never 5xx, never routed as another path)', { timeout: PROPERTY_TIMEOUT }, async () => {
    // API Gateway routes on the raw path; no documented path starts with an empty segment. If a
    // gateway merged duplicate slashes, the merged path may be a real route: then 200 is fine too.
    const arb = fc.tuple(
      fc.constantFrom(admin, stranger),
      fc.oneof(fc.constantFrom('', 'x', 'v1', '%zz', '[::1', 'a:b@c', 'localhost:1', '..'), fc.string({ unit: fc.constantFrom(...'ab1%:@[]'), maxLength: 6 })),
      fc.constantFrom('', '/', '/v1/organizations', '/v1/user/organizations', '/organizations/x', `/v1/organizations/${A.name}`, `/${A.name}`),
    );
    await fuzz(arb.map((t) => labelled(t)), runs(30), async ([who, authority, rest], ledger) => {
      const target = `//${authority}${rest}`;
      const [req, res] = await send(who, { method: 'GET', path: target });
      expect(res.status, `GET ${target} → ${res.status} ${short(res.text)}`).toBeLessThan(500);
      expect(res.contentType).toMatch(/^application\/json/);
      const merged = target.replace(/\/{2,}/g, '/');
      const mergedIsRoute = !merged.includes('%') && resolveRoute('GET', merged).operation !== undefined;
      expect(mergedIsRoute ? [200, 404] : [404], `GET ${target} → ${res.status} ${short(res.text)}`).toContain(res.status);
      ledger.note({ status: res.status, body: undefined, route: { operation: undefined, pathname: target, params: {} } }, who.sub);
    });
  });

  it('Authorization header variants of a valid token: 200 or exactly {"message":"Unauthorized"}, never 403/5xx', { timeout: PROPERTY_TIMEOUT }, async () => {
    const mutate = (token: string, i: number) => {
      // Change a character that is not the last of its part (those can carry unused bits).
      const parts = token.split('.');
      const part = i % 3;
      const text = parts[part]!;
      const at = Math.floor(i / 3) % Math.max(1, text.length - 1);
      parts[part] = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      return parts.join('.');
    };
    type Variant = { header: string | string[]; valid: boolean | undefined };
    const variant = (token: string): fc.Arbitrary<Variant> =>
      fc.oneof(
        fc.constantFrom<Variant>(
          { header: `Bearer ${token}`, valid: true },
          { header: `bearer ${token}`, valid: true },
          { header: `BEARER    ${token}`, valid: true },
          { header: `  Bearer ${token}  `, valid: true },
          { header: `Bearer\t${token}`, valid: undefined },
          { header: `Bearer ${token},Bearer ${token}`, valid: false },
          { header: [`Bearer ${token}`, `Bearer ${token}`], valid: undefined },
          { header: `Bearer ${token} extra`, valid: false },
          { header: `Token ${token}`, valid: false },
          { header: token, valid: false },
          { header: 'Bearer', valid: false },
          { header: 'Bearer ', valid: false },
          { header: `Bearer ${token}.`, valid: false },
          { header: `Bearer .${token}`, valid: false },
          { header: `Bearer ${token.split('.').slice(0, 2).join('.')}.`, valid: false },
          { header: `Bearer ${token.split('.').slice(0, 2).join('.')}`, valid: false },
          { header: `Bearer ${token}${token}`, valid: false },
          { header: `Bearer ${'a'.repeat(8000)}`, valid: false },
        ),
        fc.nat().map((i) => ({ header: `Bearer ${mutate(token, i)}`, valid: false })),
      );
    const arb = fc.constantFrom(...everyone()).chain((who) => fc.tuple(fc.constant(who), variant(who.token), fc.constantFrom('/v1/user/organizations', paths.organization(A.name), '/nope')));
    await fuzz(arb.map((t) => labelled(t)), runs(80), async ([who, { header, valid }, target], ledger) => {
      const req: RawRequest = { method: 'GET', path: target, headers: { authorization: header } };
      const res = await rawRequest(stack.url, req);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${short(header)} → ${res.status} ${short(res.text)}`).not.toBe(403);
      expect(res.status).toBeLessThan(500);
      expect(res.contentType).toMatch(/^application\/json/);
      if (res.status === 401 && res.text === '{"message":"Unauthorized"}') {
        expect(valid, `a valid header was refused: ${short(header)}`).not.toBe(true);
        return;
      }
      expect(valid, `an invalid header was accepted: ${short(header)} → ${res.status}`).not.toBe(false);
      ledger.note(checkResponse(req, res, [200, 404]), who.sub);
    });
  });

  it('user-controlled token claims (preferred_username, email): creating, reading and inviting still work', { timeout: PROPERTY_TIMEOUT }, async () => {
    const claims = fc.record({
      username: fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 255 }), fc.constantFrom('', ' ', '<img src=x>', '\r\nBcc: x@y.z', 'ORG#MEMBER#x', '"\\')), { nil: undefined }),
      email: fc.option(fc.oneof(fc.emailAddress(), fc.constantFrom('UPPER@EXAMPLE.COM', 'a+b@example.com', 'x@xn--80ak6aa92e.com')), { nil: undefined }),
      emailVerified: fc.boolean(),
    });
    await fuzz(claims.map((c) => labelled(c)), runs(25), async (c, ledger) => {
      const sub = `claims-${randomUUID()}`;
      const token = stack.issuer.token({ sub, ...c });
      claimsUsers.add(sub);
      const who: Actor = labelled({ sub, email: c.email ?? '', token, role: 'creator' });
      const name = uniqueOrgName('claims');
      const body = JSON.stringify({ name, contactEmail: 'contact@example.com', visibility: 'PRIVATE' });
      // These organizations are not the creator's: the invariant "only `creator` creates" is about fixture orgs.
      const [req1, res1] = await send(who, { method: 'POST', path: paths.organizations, headers: { 'content-type': 'application/json' }, body });
      const created = checkResponse(req1, res1, [201]);
      ledger.note(created, sub);
      const [req2, res2] = await send(who, { method: 'GET', path: paths.organization(name) });
      ledger.note(checkResponse(req2, res2, [200]), sub);
      const [req3, res3] = await send(who, {
        method: 'POST',
        path: paths.invitations(name),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ emails: ['someone@example.com'] }),
      });
      ledger.note(checkResponse(req3, res3, [201]), sub);
    });
  });
});

describe('fuzz: coverage', () => {
  // Last in the file: it reads what the properties above sent (run the whole file).
  it('every route of shared/deployment/routes.ts was fuzzed', () => {
    const counts = Object.fromEntries(routes.map((route) => [route.id, reachedRoutes.get(route.id) ?? 0]));
    if (process.env.FUZZ_STATS) console.log('requests per route', counts);
    const missed = routes.filter((route) => !reachedRoutes.has(route.id)).map((route) => `${route.id} (${route.method} ${route.path})`);
    expect(missed, `routes no property sent a request to; add a property for each: ${missed.join(', ')}`).toEqual([]);
  });
});
