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
 *   Reading: the invitee or an org admin. Listing and resending: org admins only (401 otherwise).
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
export type StatusFilter = InvitationStatus | 'EXPIRED';
export type SkipReason = 'ALREADY_INVITED' | 'ALREADY_MEMBER';

export interface ModelInvitation {
  readonly id: string;
  /** Normalized email: the identity of the invitee. */
  readonly email: string;
  /** As typed by the admin (trimmed). */
  readonly userEmail: string;
  status: InvitationStatus;
  /** Epoch seconds. */
  expiresAt: number;
  /** From the service's create response (checked to lie within the request's time window). */
  readonly createdAt: string;
  readonly invitedBy: string;
  userId?: string;
  respondedAt?: string;
}

export interface LifecycleModel {
  /** Every invitation of the organization, in creation order. */
  readonly invitations: ModelInvitation[];
  /** Normalized emails of the organization's members (the admin from the start, then every accepter). */
  readonly members: Set<string>;
}

export function initialModel(adminEmail: string): LifecycleModel {
  return { invitations: [], members: new Set([normalize(adminEmail)]) };
}

export const trim = (raw: string) => raw.replace(/^[ \t]+|[ \t]+$/g, '');
export const normalize = (address: string) => address.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const isExpired = (inv: ModelInvitation, nowMs: number) => inv.status === 'PENDING' && nowMs >= inv.expiresAt * 1000;
export const isLive = (inv: ModelInvitation, nowMs: number) => inv.status === 'PENDING' && !isExpired(inv, nowMs);
export const isGone = (inv: ModelInvitation, nowMs: number) =>
  inv.status === 'PENDING'
    ? nowMs >= (inv.expiresAt + RETENTION_SECONDS) * 1000
    : nowMs >= (Math.floor(Date.parse(inv.respondedAt!) / 1000) + ANSWERED_RETENTION_SECONDS) * 1000;

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
  for (const email of parseEmails(raw)) {
    if (model.members.has(email.normalized)) skipped.push({ email: email.address, reason: 'ALREADY_MEMBER' });
    else if (model.invitations.some((i) => i.email === email.normalized && isLive(i, nowMs))) {
      skipped.push({ email: email.address, reason: 'ALREADY_INVITED' });
    } else create.push(email);
  }
  return { create, skipped };
}

export function matchesFilter(inv: ModelInvitation, filter: StatusFilter | undefined, nowMs: number): boolean {
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
    associationType: 'MEMBER',
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
export const already = (status: InvitationStatus): ExpectedError => ({
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

/** POST .../resend by an org admin (non-admins: NOT_ADMIN, whatever the id). */
export function expectResend(inv: ModelInvitation | undefined, nowMs: number): ExpectedError | 'ok' {
  if (!inv || isGone(inv, nowMs)) return NOT_FOUND;
  if (inv.status !== 'PENDING') return already(inv.status);
  if (isExpired(inv, nowMs)) return RESEND_EXPIRED;
  return 'ok';
}

/** GET of one invitation. */
export function expectGet(
  inv: ModelInvitation | undefined,
  callerEmail: string,
  callerIsAdmin: boolean,
  nowMs: number,
): ExpectedError | 'ok' {
  if (!inv || isGone(inv, nowMs)) return NOT_FOUND;
  if (callerIsAdmin || normalize(callerEmail) === inv.email) return 'ok';
  return NOT_FOUND;
}
