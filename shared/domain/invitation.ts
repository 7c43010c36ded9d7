import { invitationNotFound, requireInvitee } from './access.ts';
import type { Caller } from './caller.ts';
import { normalizeEmail } from './email.ts';
import { DomainError, invalidInput } from './errors.ts';
import type { AssociationType } from './organization.ts';

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED';
/**
 * What an invitation item may hold: the spec's statuses, plus REVOKED for one an admin withdrew
 * while pending. A revoked invitation is kept (history, for the audit trail) but is gone for
 * every Jaqpot view: the stores never return it to them, so REVOKED never reaches a response
 * (the Jaqpot client validates `status` strictly against the spec's three values).
 */
export type StoredInvitationStatus = InvitationStatus | 'REVOKED';
/** EXPIRED is not stored: it is a PENDING invitation whose expiry has passed. */
export type InvitationStatusFilter = InvitationStatus | 'EXPIRED';

export const INVITATION_STATUSES: readonly InvitationStatus[] = ['PENDING', 'ACCEPTED', 'REJECTED'];
export const STATUS_FILTERS: readonly InvitationStatusFilter[] = ['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'];
export const MAX_EMAILS_PER_REQUEST = 10;

/**
 * Delivery state of the invitation's latest email request. NOT_NEEDED: the invitation was
 * answered or revoked before its email went out, so none was sent (not a failure). NOT_REQUESTED: created
 * with `sendEmail: false` (a link-only invitation the admin passes on); a resend requests one.
 */
export type EmailStatus = 'PENDING' | 'SENT' | 'FAILED' | 'BOUNCED' | 'COMPLAINED' | 'NOT_NEEDED' | 'NOT_REQUESTED';
export const EMAIL_STATUSES: readonly EmailStatus[] = [
  'PENDING', 'SENT', 'FAILED', 'BOUNCED', 'COMPLAINED', 'NOT_NEEDED', 'NOT_REQUESTED',
];

/** The membership an accepted invitation grants. */
export const INVITATION_ROLES: readonly AssociationType[] = ['MEMBER', 'ADMIN'];

/** Bounds of a create request's `expiresInSeconds`: one hour to 30 days. */
export const INVITATION_LIFETIME = { minSeconds: 3600, maxSeconds: 2_592_000 } as const;

/** What a create request asks of every invitation it makes. */
export interface InvitationOptions {
  readonly associationType: AssociationType;
  /** Undefined: INVITATION_EXPIRY_SECONDS. */
  readonly expiresInSeconds: number | undefined;
  /** false: no email; the admin passes the link on (emailStatus NOT_REQUESTED). */
  readonly sendEmail: boolean;
}

export const DEFAULT_INVITATION_OPTIONS: InvitationOptions = {
  associationType: 'MEMBER',
  expiresInSeconds: undefined,
  sendEmail: true,
};

export interface Invitation {
  readonly id: string;
  readonly orgId: number;
  readonly orgName: string;
  /** As the admin typed it (trimmed). */
  readonly userEmail: string;
  /** The comparison form of userEmail. */
  readonly emailNormalized: string;
  readonly status: StoredInvitationStatus;
  /** The membership accepting grants (stored since invitations have roles; older items: MEMBER). */
  readonly associationType: AssociationType;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /**
   * How long the invitation lives from its creation or a resend, in seconds. Absent on items
   * stored before lifetimes were per invitation: INVITATION_EXPIRY_SECONDS.
   */
  readonly lifetimeSeconds?: number;
  readonly createdAt: string;
  /** The inviting admin's user id (token `sub`). */
  readonly invitedBy: string;
  /**
   * The inviter as the email names them: preferred_username, else the email if verified; absent
   * when the token had neither (the email then says "An admin of <org>").
   */
  readonly inviterName?: string;
  /** Set when answered: the invitee's user id. */
  readonly userId?: string;
  readonly respondedAt?: string;
  /**
   * Transactional outbox: each email request (create, every resend) takes the next sequence
   * number; the delivery function records each number's outcome once (deliveredSeq).
   */
  readonly deliverySeq: number;
  readonly deliveredSeq: number;
  readonly emailRequestedAt: string;
  readonly emailStatus: EmailStatus;
  /** Emails SES accepted for this invitation. */
  readonly sendCount: number;
  readonly lastSentAt?: string;
  /** Short, safe reason of the last delivery failure. */
  readonly lastError?: string;
  /** SES message id of the last email sent, to match bounces and complaints. */
  readonly messageId?: string;
  /** Set when revoked (status REVOKED): when, and the revoking admin's user id. */
  readonly revokedAt?: string;
  readonly revokedBy?: string;
  /** What the latest email request asks for: absent, the invitation itself; REMINDER, the reminder before it expires. */
  readonly emailKind?: EmailKind;
  /** The expiry (epoch seconds) of the lifetime whose reminder was requested: one reminder per lifetime. */
  readonly remindedFor?: number;
}

export type EmailKind = 'INVITATION' | 'REMINDER';

export interface InvitationTimings {
  /** INVITATION_EXPIRY_SECONDS */
  readonly expirySeconds: number;
  /** INVITATION_RETENTION_SECONDS: how long an expired invitation stays listable before TTL removes it. */
  readonly retentionSeconds: number;
  /** ANSWERED_INVITATION_RETENTION_SECONDS: how long an answered invitation stays listable (history). */
  readonly answeredRetentionSeconds: number;
  /** REMINDER_BEFORE_SECONDS: how long before expiry a pending invitation is reminded (0: never; see domain/timers.ts). */
  readonly reminderBeforeSeconds: number;
}

export interface ParsedEmail {
  readonly address: string;
  readonly normalized: string;
}

/**
 * The addresses to invite, from valid, trimmed addresses: duplicates (compared normalized, so
 * case-insensitively) collapse to the first spelling, in first-seen order.
 */
export function uniqueEmails(addresses: readonly string[]): ParsedEmail[] {
  const unique = new Map<string, ParsedEmail>();
  for (const address of addresses) {
    const normalized = normalizeEmail(address);
    if (!unique.has(normalized)) unique.set(normalized, { address, normalized });
  }
  return [...unique.values()];
}

export function newInvitation(
  input: { id: string; org: { id: number; name: string }; email: ParsedEmail; inviter: Caller },
  nowMs: number,
  timings: InvitationTimings,
  options: InvitationOptions = DEFAULT_INVITATION_OPTIONS,
): Invitation {
  const now = new Date(nowMs).toISOString();
  const lifetimeSeconds = options.expiresInSeconds ?? timings.expirySeconds;
  return {
    id: input.id,
    orgId: input.org.id,
    orgName: input.org.name,
    userEmail: input.email.address,
    emailNormalized: input.email.normalized,
    status: 'PENDING',
    associationType: options.associationType,
    expiresAt: Math.floor(nowMs / 1000) + lifetimeSeconds,
    lifetimeSeconds,
    createdAt: now,
    invitedBy: input.inviter.userId,
    inviterName: inviterDisplayName(input.inviter),
    // A link-only invitation makes no email request (sequence 0): it never enters the outbox
    // (neither the stream filter nor the pending-email index take NOT_REQUESTED) until a resend.
    deliverySeq: options.sendEmail ? 1 : 0,
    deliveredSeq: 0,
    emailRequestedAt: now,
    emailStatus: options.sendEmail ? 'PENDING' : 'NOT_REQUESTED',
    sendCount: 0,
  };
}

/** How long an invitation lives from its creation or a resend. */
export function invitationLifetimeSeconds(invitation: Pick<Invitation, 'lifetimeSeconds'>, timings: Pick<InvitationTimings, 'expirySeconds'>): number {
  return invitation.lifetimeSeconds ?? timings.expirySeconds;
}

export type DryRunOutcome = 'INVITE' | 'ALREADY_INVITED' | 'ALREADY_MEMBER' | 'INVALID';

/** A dry run's address: valid (as create would take it) or invalid, with why. */
export type DryRunEntry = { readonly valid: ParsedEmail } | { readonly invalid: string; readonly reason: string };

export interface DryRunResult {
  readonly email: string;
  readonly outcome: DryRunOutcome;
  readonly reason?: string;
}

/**
 * What a create request would do with each address, without doing it: the same order of rules
 * as create (a member is ALREADY_MEMBER before any guard is looked at; a live pending guard
 * makes ALREADY_INVITED). `entries` are the request's addresses, valid ones collapsed as create
 * collapses them (first spelling), invalid ones in their places with why.
 */
export function classifyDryRun(
  entries: readonly DryRunEntry[],
  memberEmails: ReadonlySet<string>,
  invitedEmails: ReadonlySet<string>,
): DryRunResult[] {
  return entries.map((entry) => {
    if ('invalid' in entry) return { email: entry.invalid, outcome: 'INVALID', reason: entry.reason };
    const { address, normalized } = entry.valid;
    if (memberEmails.has(normalized)) return { email: address, outcome: 'ALREADY_MEMBER' };
    if (invitedEmails.has(normalized)) return { email: address, outcome: 'ALREADY_INVITED' };
    return { email: address, outcome: 'INVITE' };
  });
}

/** A pending guard holds its address while its invitation lives; expired, it holds nothing. */
export function isGuardLive(guard: { readonly expiresAt: number }, nowMs: number): boolean {
  return nowMs < guard.expiresAt * 1000;
}

/**
 * The name an invitation email gives its inviter: only what the identity provider vouches for.
 * preferred_username is the realm's own; an email only once verified (anyone can put any
 * address, e.g. security@<our domain>, in an unverified account). Otherwise none.
 */
export function inviterDisplayName(inviter: Pick<Caller, 'username' | 'email' | 'emailVerified'>): string | undefined {
  if (inviter.username !== undefined && inviter.username.trim() !== '') return inviter.username;
  if (inviter.email !== undefined && inviter.emailVerified) return inviter.email;
  return undefined;
}

export function isExpired(invitation: Pick<Invitation, 'status' | 'expiresAt'>, nowMs: number): boolean {
  return invitation.status === 'PENDING' && nowMs >= invitation.expiresAt * 1000;
}

/** A pending, unexpired invitation: it blocks a second invitation for the same address. */
export function isLive(invitation: Pick<Invitation, 'status' | 'expiresAt'>, nowMs: number): boolean {
  return invitation.status === 'PENDING' && !isExpired(invitation, nowMs);
}

export function matchesStatusFilter(invitation: Invitation, filter: InvitationStatusFilter, nowMs: number): boolean {
  if (filter === 'EXPIRED') return isExpired(invitation, nowMs);
  if (filter === 'PENDING') return isLive(invitation, nowMs);
  return invitation.status === filter;
}

/** TTL (epoch seconds) for a pending invitation: kept listable for the retention period after expiry. */
export function invitationTtl(expiresAt: number, timings: InvitationTimings): number {
  return expiresAt + timings.retentionSeconds;
}

/** TTL (epoch seconds) for an answered invitation: kept as history for the answered retention. */
export function answeredInvitationTtl(respondedAtMs: number, timings: InvitationTimings): number {
  return Math.floor(respondedAtMs / 1000) + timings.answeredRetentionSeconds;
}

/**
 * TTL deletion is lazy (up to days late), so an item whose TTL has passed is treated as deleted
 * by every read: `ttl` is the item's TTL attribute (epoch seconds), undefined when it has none.
 */
export function isPastRetention(ttl: number | undefined, nowMs: number): boolean {
  return ttl !== undefined && nowMs >= ttl * 1000;
}

export type AnswerDecision = { kind: 'unchanged' } | { kind: 'answer'; status: 'ACCEPTED' | 'REJECTED' };

/**
 * The invitee's answer. Only the invitee (by verified email) may answer (requireInvitee); org
 * admins included, anyone else sees 404. A PENDING invitation may become ACCEPTED or REJECTED once.
 */
export function decideAnswer(
  invitation: Invitation | undefined,
  caller: Caller,
  requested: InvitationStatus,
  nowMs: number,
): AnswerDecision {
  const refusal = answerRefusal(requireInvitee(invitation, caller), nowMs);
  if (refusal) throw refusal;
  if (requested === 'PENDING') return { kind: 'unchanged' };
  return { kind: 'answer', status: requested };
}

/**
 * Resend: only a PENDING invitation that has not expired; the new expiry starts now and lasts
 * the invitation's own lifetime (as created).
 */
export function decideResend(invitation: Invitation | undefined, nowMs: number, timings: InvitationTimings) {
  const refusal = resendRefusal(invitation, nowMs);
  if (refusal) throw refusal;
  const expiresAt = Math.floor(nowMs / 1000) + invitationLifetimeSeconds(invitation!, timings);
  return { expiresAt, requestedAt: new Date(nowMs).toISOString() };
}

/**
 * Revoke: only a PENDING invitation, live or expired (an expired one still holds its place in the
 * list and may still hold the address's guard). Answered ones stay as history. A revoked one is
 * already gone: the stores never return it, so `invitation` is then undefined (404).
 */
export function decideRevoke(invitation: Invitation | undefined): Invitation {
  const refusal = revokeRefusal(invitation);
  if (refusal) throw refusal;
  return invitation!;
}

/** TTL (epoch seconds) of a revoked invitation: kept (invisible) as long as answered ones. */
export function revokedInvitationTtl(revokedAtMs: number, timings: InvitationTimings): number {
  return answeredInvitationTtl(revokedAtMs, timings);
}

/**
 * A revoke's conditional write failed: the error that explains it with the state that won (the
 * invitation answered meanwhile, or revoked by a concurrent request: then it is gone, 404).
 */
export function explainLostRevoke(current: Invitation | undefined): DomainError {
  return revokeRefusal(current) ?? changedConcurrently();
}

/**
 * An answer's conditional write failed: the error that explains it with the state that won (the
 * invitation answered, expired or gone meanwhile). The invitee is who they were: the address
 * never changes.
 */
export function explainLostAnswer(current: Invitation | undefined, nowMs: number): DomainError {
  if (!current) return invitationNotFound();
  return answerRefusal(current, nowMs) ?? changedConcurrently();
}

/** A resend's conditional write failed: the error that explains it with the state that won. */
export function explainLostResend(current: Invitation | undefined, nowMs: number): DomainError {
  return resendRefusal(current, nowMs) ?? changedConcurrently();
}

function answerRefusal(invitation: Invitation, nowMs: number): DomainError | undefined {
  if (invitation.status === 'REVOKED') return invitationNotFound();
  if (invitation.status !== 'PENDING') return alreadyAnswered(invitation.status);
  if (isExpired(invitation, nowMs)) {
    return invalidInput(
      `This invitation expired on ${expirationDate(invitation)}. Ask an organization admin to send a new one.`,
    );
  }
  return undefined;
}

function resendRefusal(invitation: Invitation | undefined, nowMs: number): DomainError | undefined {
  if (!invitation || invitation.status === 'REVOKED') return invitationNotFound();
  if (invitation.status !== 'PENDING') return alreadyAnswered(invitation.status);
  if (isExpired(invitation, nowMs)) {
    return new DomainError(
      'GONE',
      `This invitation expired on ${expirationDate(invitation)}. Create a new invitation instead.`,
    );
  }
  return undefined;
}

function revokeRefusal(invitation: Invitation | undefined): DomainError | undefined {
  if (!invitation || invitation.status === 'REVOKED') return invitationNotFound();
  if (invitation.status !== 'PENDING') return alreadyAnswered(invitation.status);
  return undefined;
}

/** A condition failed, yet the fresh state allows the change: only a concurrent writer explains it. */
const changedConcurrently = () =>
  new DomainError('UNAVAILABLE', 'The invitation changed while processing the request. Please retry.');

export type DeliveryDecision =
  | { kind: 'send'; invitation: Invitation }
  | { kind: 'skip'; reason: string }
  | { kind: 'not-needed'; reason: string }
  | { kind: 'abandon'; reason: string };

/**
 * Whether delivery request `seq` should still send an email. Replays of an already recorded
 * request, and requests superseded by a newer resend, are skipped. An invitation answered or
 * revoked before its email went out needs no email (NOT_NEEDED: the invitee found it anyway, or
 * must not be told; not a failure). One
 * that expired first is abandoned as FAILED: the invitee was never told in time, which only a
 * delivery outage lasting the whole invitation lifetime explains, so it must alert.
 */
export function decideDelivery(invitation: Invitation | undefined, seq: number, nowMs: number): DeliveryDecision {
  if (!invitation) return { kind: 'skip', reason: 'invitation no longer exists' };
  // Link-only and never resent: no email was requested (the stream filter keeps these out too).
  if (invitation.emailStatus === 'NOT_REQUESTED') return { kind: 'skip', reason: 'no email requested' };
  if (invitation.deliveredSeq >= seq) return { kind: 'skip', reason: 'already recorded' };
  if (invitation.deliverySeq > seq) return { kind: 'skip', reason: 'superseded by a newer email request' };
  if (invitation.status === 'REVOKED') return { kind: 'not-needed', reason: 'the invitation was revoked before its email went out' };
  if (invitation.status !== 'PENDING') return { kind: 'not-needed', reason: 'the invitation was answered before its email went out' };
  if (isExpired(invitation, nowMs)) return { kind: 'abandon', reason: 'Not sent: the invitation had expired.' };
  return { kind: 'send', invitation };
}

export function expirationDate(invitation: Pick<Invitation, 'expiresAt'>): string {
  return new Date(invitation.expiresAt * 1000).toISOString();
}

/**
 * The status a Jaqpot view shows. The stores never return a revoked invitation to a view, so
 * meeting one here is a bug: fail loudly rather than put REVOKED in the spec's enum.
 */
export function visibleStatus(invitation: Pick<Invitation, 'status' | 'id'>): InvitationStatus {
  if (invitation.status === 'REVOKED') throw new Error(`revoked invitation ${invitation.id} reached a view`);
  return invitation.status;
}

export const alreadyAnswered = (status: InvitationStatus) =>
  invalidInput(`This invitation has already status ${status}.`);
