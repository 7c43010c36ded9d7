/**
 * A small reference model of the invitation lifecycle, written from the README (not from the
 * service code), used by invitation-lifecycle.test.ts as the oracle for every response.
 *
 * - An invitation belongs to one normalized email (trimmed of spaces/tabs, ASCII lower-cased) and
 *   keeps the address as the admin typed it (trimmed; the first spelling of a request wins).
 * - status PENDING → ACCEPTED | REJECTED, once. A PENDING invitation whose expiry has passed is
 *   "expired": it cannot be answered (400) or resent (410), and it no longer blocks a new one.
 * - One live (pending, unexpired) invitation per email; accepting makes the email a member, and
 *   members are never invited again (ALREADY_MEMBER).
 * - Resend of a live invitation restarts its expiry (now + 7 days).
 * - Retention: a pending invitation 30 days past its expiry, or an answered one a year after
 *   its answer, is gone (not listed, 404 everywhere), whether or not TTL has deleted it.
 * - Only the invitee (by token email) may answer; anyone else gets the 404 of an unknown id.
 *   Reading: the invitee or an org admin. Listing, creating, resending, revoking and changing roles:
 *   org admins only.
 * - Revoke: an org admin withdraws a PENDING invitation (live or expired): 204, and from then on
 *   it is invisible everywhere (404, not listed) and no longer blocks a new invitation. An
 *   answered one: 400 "already status X"; unknown or gone: 404.
 * - Roles: an invitation carries associationType MEMBER (default) or ADMIN. Accepting creates the
 *   membership (userId, username and email as the token has them, the invitation's role); an
 *   existing membership keeps its fields, except that an ADMIN invitation makes it ADMIN (a MEMBER
 *   invitation never downgrades). Members are matched to invitations by their stored email.
 * - Access (README "Org admin"): the creator or an ADMIN member is an org admin. A PRIVATE
 *   organization is visible to its members (and admins) only; to anyone else it does not exist:
 *   404 "Organization not found." on the admin and member routes. Visible but not an admin: 401.
 * - Members: an admin removes any member but the creator; a member removes themself (leaves);
 *   naming someone else without being an admin is 401; the creator 400; a non-member 404. Role
 *   changes: admins only, never the creator's (400), non-member 404.
 *
 * Time: the model judges expiry with the (faked) clock read just before each request. Every clock
 * advance is a whole number of hours, so no invitation is ever within a request's duration of its
 * expiry: the model and the service always agree on which side of it they are.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** INVITATION_EXPIRY_SECONDS, the service default (7 days). */
export const EXPIRY_SECONDS = 7 * 24 * 3600;
/** INVITATION_RETENTION_SECONDS and ANSWERED_INVITATION_RETENTION_SECONDS, the service defaults. */
export const RETENTION_SECONDS = 30 * 24 * 3600;
export const ANSWERED_RETENTION_SECONDS = 365 * 24 * 3600;

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED';
/** REVOKED is the model's own: the API never shows it (a revoked invitation is gone). */
export type StoredStatus = InvitationStatus | 'REVOKED';
export type Role = 'MEMBER' | 'ADMIN';
export type Visibility = 'PUBLIC' | 'PRIVATE';
export type StatusFilter = InvitationStatus | 'EXPIRED';
export type SkipReason = 'ALREADY_INVITED' | 'ALREADY_MEMBER';

export interface ModelInvitation {
  readonly id: string;
  /** Normalized email: the identity of the invitee. */
  readonly email: string;
  /** As typed by the admin (trimmed). */
  readonly userEmail: string;
  status: StoredStatus;
  readonly associationType: Role;
  /** Epoch seconds. */
  expiresAt: number;
  /** From the service's create response (checked to lie within the request's time window). */
  readonly createdAt: string;
  readonly invitedBy: string;
  userId?: string;
  respondedAt?: string;
}

/** A membership as the organization's `organizationMembers` shows it. */
export interface ModelMembership {
  readonly userId: string;
  readonly username: string;
  /** As the token spelled it when the membership was created. */
  readonly email: string;
  associationType: Role;
}

export interface LifecycleModel {
  readonly visibility: Visibility;
  readonly creatorId: string;
  /** Every invitation of the organization, in creation order. */
  readonly invitations: ModelInvitation[];
  /** Memberships by user id: the creator (ADMIN) from the start, then every accepter. */
  readonly memberships: Map<string, ModelMembership>;
}

export function initialModel(visibility: Visibility, creator: { sub: string; username: string; email: string }): LifecycleModel {
  return {
    visibility,
    creatorId: creator.sub,
    invitations: [],
    memberships: new Map([[creator.sub, { userId: creator.sub, username: creator.username, email: creator.email, associationType: 'ADMIN' }]]),
  };
}

// Access, written from the README (independently of shared/domain/access.ts).

export const isOrgAdmin = (m: LifecycleModel, userId: string) =>
  userId === m.creatorId || m.memberships.get(userId)?.associationType === 'ADMIN';
export const isMember = (m: LifecycleModel, userId: string) => m.memberships.has(userId);
export const canSee = (m: LifecycleModel, userId: string) => m.visibility === 'PUBLIC' || isMember(m, userId) || isOrgAdmin(m, userId);

/** An admin route, before anything else is looked at: 404 when invisible, 401 when not an admin. */
export function expectAdminRoute(m: LifecycleModel, userId: string): ExpectedError | 'ok' {
  if (!canSee(m, userId)) return ORG_NOT_FOUND;
  if (!isOrgAdmin(m, userId)) return NOT_ADMIN;
  return 'ok';
}

/** The normalized emails of the members: creating skips them (ALREADY_MEMBER). */
const memberEmails = (m: LifecycleModel) => new Set([...m.memberships.values()].map((ms) => normalize(ms.email)));

export const trim = (raw: string) => raw.replace(/^[ \t]+|[ \t]+$/g, '');
export const normalize = (address: string) => address.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const isExpired = (inv: ModelInvitation, nowMs: number) => inv.status === 'PENDING' && nowMs >= inv.expiresAt * 1000;
export const isLive = (inv: ModelInvitation, nowMs: number) => inv.status === 'PENDING' && !isExpired(inv, nowMs);
export const isGone = (inv: ModelInvitation, nowMs: number) =>
  inv.status === 'REVOKED' ||
  (inv.status === 'PENDING'
    ? nowMs >= (inv.expiresAt + RETENTION_SECONDS) * 1000
    : nowMs >= (Math.floor(Date.parse(inv.respondedAt!) / 1000) + ANSWERED_RETENTION_SECONDS) * 1000);

/** The addresses of a create request: trimmed, duplicates (case-insensitive) collapse to the first spelling. */
export function parseEmails(raw: readonly string[]): { address: string; normalized: string }[] {
  const unique = new Map<string, { address: string; normalized: string }>();
  for (const r of raw) {
    const address = trim(r);
    const normalized = normalize(address);
    if (!unique.has(normalized)) unique.set(normalized, { address, normalized });
  }
  return [...unique.values()];
}

/** What a create by an org admin should do with each address, in request order. */
export function planCreate(model: LifecycleModel, raw: readonly string[], nowMs: number) {
  const create: { address: string; normalized: string }[] = [];
  const skipped: { email: string; reason: SkipReason }[] = [];
  const members = memberEmails(model);
  for (const email of parseEmails(raw)) {
    if (members.has(email.normalized)) skipped.push({ email: email.address, reason: 'ALREADY_MEMBER' });
    else if (model.invitations.some((i) => i.email === email.normalized && isLive(i, nowMs))) {
      skipped.push({ email: email.address, reason: 'ALREADY_INVITED' });
    } else create.push(email);
  }
  return { create, skipped };
}

export function matchesFilter(inv: ModelInvitation, filter: StatusFilter | undefined, nowMs: number): boolean {
  if (inv.status === 'REVOKED') return false;
  if (filter === undefined) return true;
  if (filter === 'EXPIRED') return isExpired(inv, nowMs);
  if (filter === 'PENDING') return isLive(inv, nowMs);
  return inv.status === filter;
}

/**
 * The list an admin should see: newest first. Invitations created by one request share their
 * createdAt (and the faked clock moves in 20 ms steps, so two quick requests may too); ties are
 * ordered by id, descending, which is what makes cursor paging over them deterministic.
 */
export function expectedList(model: LifecycleModel, filter: StatusFilter | undefined, nowMs: number): ModelInvitation[] {
  return model.invitations
    .filter((i) => !isGone(i, nowMs) && matchesFilter(i, filter, nowMs))
    .sort((a, b) => (a.createdAt === b.createdAt ? cmp(b.id, a.id) : cmp(b.createdAt, a.createdAt)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The local stack's FRONTEND_URL (local/environment.ts), the base of the invitation link. */
const FRONTEND_URL = 'http://localhost:3001';

/**
 * The JSON the API should show for the invitation (no email delivery runs in this test). An org
 * admin's view (`forAdminOf`: the organization's name) also carries the invitation link.
 */
export function viewOf(inv: ModelInvitation, forAdminOf?: string) {
  return {
    id: inv.id,
    userEmail: inv.userEmail,
    status: inv.status,
    associationType: inv.associationType,
    expirationDate: new Date(inv.expiresAt * 1000).toISOString(),
    ...(inv.userId !== undefined && { userId: inv.userId }),
    createdAt: inv.createdAt,
    invitedBy: inv.invitedBy,
    ...(inv.respondedAt !== undefined && { respondedAt: inv.respondedAt }),
    emailStatus: 'PENDING',
    sendCount: 0,
    ...(forAdminOf !== undefined && { link: `${FRONTEND_URL}/dashboard/organizations/${forAdminOf}/invitations/${inv.id}` }),
  };
}

/** An expected error: status code and what the message must say. */
export interface ExpectedError {
  readonly status: number;
  readonly message: RegExp;
}

export const NOT_FOUND: ExpectedError = { status: 404, message: /^Invitation not found\.$/ };
export const NOT_ADMIN: ExpectedError = { status: 401, message: /admins/ };
export const ORG_NOT_FOUND: ExpectedError = { status: 404, message: /^Organization not found\.$/ };
export const MEMBER_NOT_FOUND: ExpectedError = { status: 404, message: /^Member not found\.$/ };
export const CREATOR_CANNOT_LEAVE: ExpectedError = { status: 400, message: /^The creator of an organization cannot leave it\.$/ };
export const CREATOR_CANNOT_BE_REMOVED: ExpectedError = { status: 400, message: /^The creator of an organization cannot be removed\.$/ };
export const CREATOR_ROLE_FIXED: ExpectedError = { status: 400, message: /^The role of the organization's creator cannot be changed\.$/ };
export const already = (status: StoredStatus): ExpectedError => ({
  status: 400,
  message: new RegExp(`^This invitation has already status ${status}\\.$`),
});
export const ANSWER_EXPIRED: ExpectedError = { status: 400, message: /expired on .*send a new one/ };
export const RESEND_EXPIRED: ExpectedError = { status: 410, message: /expired on .*Create a new invitation/ };

/** PUT by a caller whose token email is `callerEmail`. */
export function expectAnswer(
  inv: ModelInvitation | undefined,
  callerEmail: string,
  nowMs: number,
): ExpectedError | 'ok' {
  if (!inv || isGone(inv, nowMs) || normalize(callerEmail) !== inv.email) return NOT_FOUND;
  if (inv.status !== 'PENDING') return already(inv.status);
  if (isExpired(inv, nowMs)) return ANSWER_EXPIRED;
  return 'ok';
}

/** POST .../resend (non-admins: 404/401 whatever the id). */
export function expectResend(m: LifecycleModel, callerId: string, inv: ModelInvitation | undefined, nowMs: number): ExpectedError | 'ok' {
  const access = expectAdminRoute(m, callerId);
  if (access !== 'ok') return access;
  if (!inv || isGone(inv, nowMs)) return NOT_FOUND;
  if (inv.status !== 'PENDING') return already(inv.status);
  if (isExpired(inv, nowMs)) return RESEND_EXPIRED;
  return 'ok';
}

/** GET of one invitation: the invitee or an org admin; anyone else gets the 404 of an unknown id. */
export function expectGet(
  m: LifecycleModel,
  inv: ModelInvitation | undefined,
  caller: { sub: string; email: string },
  nowMs: number,
): ExpectedError | 'ok' {
  if (!inv || isGone(inv, nowMs)) return NOT_FOUND;
  if (isOrgAdmin(m, caller.sub) || normalize(caller.email) === inv.email) return 'ok';
  return NOT_FOUND;
}

/** DELETE of an invitation: org admins revoke a PENDING one, live or expired. */
export function expectRevoke(m: LifecycleModel, callerId: string, inv: ModelInvitation | undefined, nowMs: number): ExpectedError | 'ok' {
  const access = expectAdminRoute(m, callerId);
  if (access !== 'ok') return access;
  if (!inv || isGone(inv, nowMs)) return NOT_FOUND;
  if (inv.status !== 'PENDING') return already(inv.status);
  return 'ok';
}

/** Accepting: the membership the invitation grants (created, or upgraded by an ADMIN invitation; never downgraded). */
export function applyAccept(m: LifecycleModel, inv: ModelInvitation, caller: { sub: string; username: string; email: string }) {
  const existing = m.memberships.get(caller.sub);
  if (!existing) {
    m.memberships.set(caller.sub, { userId: caller.sub, username: caller.username, email: caller.email, associationType: inv.associationType });
  } else if (inv.associationType === 'ADMIN') existing.associationType = 'ADMIN';
}

/** DELETE of a member `targetId` by `callerId`. */
export function expectRemoveMember(m: LifecycleModel, callerId: string, targetId: string): ExpectedError | 'ok' {
  if (!canSee(m, callerId)) return ORG_NOT_FOUND;
  const leaving = callerId === targetId;
  if (!leaving && !isOrgAdmin(m, callerId)) return NOT_ADMIN;
  if (targetId === m.creatorId) return leaving ? CREATOR_CANNOT_LEAVE : CREATOR_CANNOT_BE_REMOVED;
  if (!isMember(m, targetId)) return MEMBER_NOT_FOUND;
  return 'ok';
}

/** PATCH of a member's role. */
export function expectRoleChange(m: LifecycleModel, callerId: string, targetId: string): ExpectedError | 'ok' {
  const access = expectAdminRoute(m, callerId);
  if (access !== 'ok') return access;
  if (targetId === m.creatorId) return CREATOR_ROLE_FIXED;
  if (!isMember(m, targetId)) return MEMBER_NOT_FOUND;
  return 'ok';
}

/** The organization's `organizationMembers`, ordered by user id (the test sorts the service's too). */
export function expectedMembers(m: LifecycleModel) {
  return [...m.memberships.values()]
    .sort((a, b) => cmp(a.userId, b.userId))
    .map((ms) => ({ userId: ms.userId, username: ms.username, email: ms.email, associationType: ms.associationType }));
}
