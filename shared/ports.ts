/**
 * What the services need from the outside world. Adapters in shared/adapters implement these
 * with DynamoDB and the system clock; tests may substitute them. Nothing here imports an SDK.
 *
 * Admin writes take the `AdminAuthority` the access rules returned (shared/domain/access.ts):
 * when it is an ADMIN membership, the write lands only if that membership is still there and
 * ADMIN, atomically with it; otherwise it writes nothing and throws AdminAuthorityLost.
 */
import type { AdminAuthority } from './domain/access.ts';
import type { Caller } from './domain/caller.ts';
import type { EmailStatus, Invitation, InvitationStatusFilter } from './domain/invitation.ts';
import type { AssociationType, Membership, NewOrganizationInput, Organization, OrganizationUpdate } from './domain/organization.ts';
import type { RateLimitPolicy, RateLimitState } from './domain/rate-limit.ts';
import type { ServiceEvent } from './domain/events.ts';
import type { TimerAction, TimerState } from './domain/timers.ts';

export interface Clock {
  nowMs(): number;
}

export interface IdGenerator {
  /** A random UUIDv4. */
  uuid(): string;
}

export interface OrganizationWithMembers {
  readonly organization: Organization;
  readonly members: readonly Membership[];
}

/** An organization plus the caller's membership in it (if any). */
export interface OrganizationAccess {
  readonly organization: Organization;
  readonly membership: Membership | undefined;
}

/** An organization, the caller's membership and the membership of the user acted on (if any). */
export interface MemberAccess extends OrganizationAccess {
  readonly target: Membership | undefined;
}

export interface OrganizationStore {
  /** The organization a name resolves to now: its current name, or an old name still reserved for it. */
  findIdByName(name: string, nowMs: number): Promise<number | undefined>;
  getWithMembers(orgId: number): Promise<OrganizationWithMembers | undefined>;
  getAccess(orgId: number, userId: string): Promise<OrganizationAccess | undefined>;
  /** getAccess plus `targetUserId`'s membership, in one read. */
  getMemberAccess(orgId: number, userId: string, targetUserId: string): Promise<MemberAccess | undefined>;
  /**
   * Deletes the membership if it exists, recording `organization.member.removed` by `actor` with
   * it; false when it does not (nothing written). `org`: the organization's current name is in
   * the event. `authority`: the admin's who removes; undefined for a member leaving.
   */
  removeMember(
    org: Pick<Organization, 'id' | 'name'>,
    userId: string,
    actor: string,
    nowMs: number,
    authority: AdminAuthority | undefined,
  ): Promise<boolean>;
  /**
   * Sets the role of `member` if the membership still exists, recording
   * `organization.member.role.changed` when the role differs; undefined when it does not exist
   * (nothing written).
   */
  setMemberRole(
    org: Pick<Organization, 'id' | 'name'>,
    member: Membership,
    associationType: AssociationType,
    actor: string,
    nowMs: number,
    authority: AdminAuthority,
  ): Promise<Membership | undefined>;
  /**
   * Allocates the id; throws CONFLICT when the name is taken or still reserved for another
   * organization. The creator becomes an ADMIN member.
   */
  create(input: NewOrganizationInput, creator: Caller, nowMs: number): Promise<Organization>;
  listForUser(userId: string): Promise<OrganizationAccess[]>;
  /**
   * Applies the update field by field (renaming atomically); on rename the old name keeps
   * resolving to this organization, reserved for it, until `oldNameReservedUntil` (epoch
   * seconds). Throws CONFLICT when the new name is taken or reserved for another organization.
   */
  update(
    current: Organization,
    update: OrganizationUpdate,
    nowMs: number,
    oldNameReservedUntil: number,
    authority: AdminAuthority,
  ): Promise<Organization>;
}

export interface CreateInvitationsResult {
  readonly created: Invitation[];
  /** Normalized addresses that already had a live invitation. */
  readonly alreadyInvited: string[];
}

export interface InvitationListQuery {
  readonly limit?: number;
  readonly cursor?: string;
  readonly status?: InvitationStatusFilter;
  readonly emailStatus?: EmailStatus;
  /** Invitations to this address (compared normalized). */
  readonly email?: string;
  /** Invitations sent by this user id. */
  readonly invitedBy?: string;
  readonly nowMs: number;
}

export interface InvitationPage {
  readonly items: Invitation[];
  readonly nextCursor: string | undefined;
}

/** A page of "my invitations": `limit` 1..100; `cursor` from a previous page of the same address. */
export interface InviteeInvitationQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly nowMs: number;
}

export interface InvitationStore {
  /** An invitation together with its organization and the caller's membership, in one read. */
  getWithAccess(
    orgId: number,
    invitationId: string,
    userId: string,
  ): Promise<{ invitation: Invitation | undefined; access: OrganizationAccess | undefined }>;
  get(orgId: number, invitationId: string): Promise<Invitation | undefined>;
  /**
   * Writes all invitations and their per-(org, email) guards atomically. Addresses whose guard
   * is held by a live invitation are left out and reported; the rest are written.
   */
  createMany(invitations: Invitation[], nowMs: number, authority: AdminAuthority): Promise<CreateInvitationsResult>;
  /** Which of these normalized addresses a live pending invitation holds (one read, whatever their number). */
  findInvited(orgId: number, emailsNormalized: readonly string[], nowMs: number): Promise<Set<string>>;
  list(orgId: number, query: InvitationListQuery): Promise<InvitationPage>;
  /**
   * The live PENDING invitations to this normalized address, across all organizations, newest
   * first, each with `orgName` set to its organization's current name: one Query and at most one
   * read of the page's organizations, whatever their number. A page may be short (expired ones
   * read but dropped) and still have a next cursor. A cursor issued for another address, or
   * forged, is INVALID_INPUT.
   */
  listForInvitee(emailNormalized: string, query: InviteeInvitationQuery): Promise<InvitationPage>;
  /**
   * Records the invitee's answer if the invitation is still PENDING and unexpired; accepting also
   * makes the caller a member with the invitation's associationType in the same transaction
   * (never downgrading an ADMIN; an ADMIN invitation upgrades a MEMBER). Returns the stored state instead when the
   * condition no longer holds, so the caller can explain why.
   */
  answer(
    invitation: Invitation,
    answer: { status: 'ACCEPTED' | 'REJECTED'; caller: Caller },
    nowMs: number,
  ): Promise<{ ok: true; invitation: Invitation } | { ok: false; current: Invitation | undefined }>;
  /** Moves the expiry and requests another email, if the invitation is still PENDING and unexpired. */
  resend(
    invitation: Invitation,
    change: { expiresAt: number; requestedAt: string },
    caller: Caller,
    nowMs: number,
    authority: AdminAuthority,
  ): Promise<{ ok: true; invitation: Invitation } | { ok: false; current: Invitation | undefined }>;
  /**
   * Revokes the invitation if it is still PENDING (expired or not) and releases its pending
   * guard. Returns the stored state instead when it is not (a revoked one as undefined: gone).
   */
  revoke(invitation: Invitation, caller: Caller, nowMs: number, authority: AdminAuthority): Promise<{ ok: true } | { ok: false; current: Invitation | undefined }>;
}

export interface EventListQuery {
  readonly limit?: number;
  readonly cursor?: string;
  readonly nowMs: number;
}

export interface EventPage {
  readonly items: ServiceEvent[];
  readonly nextCursor: string | undefined;
}

export interface EventStore {
  /** The invitation's events, oldest first (past their retention left out). */
  listInvitationEvents(orgId: number, invitationId: string, query: EventListQuery): Promise<EventPage>;
}

export interface RateLimiter {
  /** Counts one request; throws RATE_LIMITED (with the state in its details) when over the limit. */
  consume(action: string, userId: string, policy: RateLimitPolicy, nowMs: number): Promise<RateLimitState>;
}

/** An email to one recipient. The address goes to SES as a structured destination, never a header. */
export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Message tags: let bounce and complaint notifications find the invitation. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Thrown by a Mailer. `retryable`: throttling or a transient fault, worth another try. */
export class MailerError extends Error {
  constructor(
    readonly retryable: boolean,
    /** Short and safe to show to an organization admin. */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'MailerError';
  }
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

export type DeliveryOutcome =
  | { readonly kind: 'sent'; readonly messageId: string; readonly at: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'not-needed' };

export interface PendingEmail {
  readonly orgId: number;
  readonly invitationId: string;
  readonly deliverySeq: number;
}

/** The right to send the email of one delivery request, held until `untilMs` (a lease). */
export interface SendClaim {
  readonly seq: number;
  /** Tells this claim from a later one for the same request (after this one expired or was released). */
  readonly id: string;
  readonly untilMs: number;
}

export interface EmailDeliveryStore {
  get(orgId: number, invitationId: string): Promise<Invitation | undefined>;
  /**
   * Claims the send of request `seq` until `nowMs + leaseMs`: only while `seq` is the latest
   * request, no outcome for it is recorded, and nobody else holds a live claim on it. Undefined
   * when one of those does not hold (nothing written): the caller must not send.
   */
  claimSend(invitation: Pick<Invitation, 'id' | 'orgId'>, seq: number, nowMs: number, leaseMs: number): Promise<SendClaim | undefined>;
  /** Gives `claim` up before its lease ends (only if it is still the claim held). False when it was not. */
  releaseSend(invitation: Pick<Invitation, 'id' | 'orgId'>, claim: SendClaim): Promise<boolean>;
  /**
   * Records the outcome of delivery request `seq`, once, with its event (sent, failed; none for
   * not-needed): only while `seq` is the latest request and no outcome for it is recorded yet.
   * Returns false when it was already recorded. `invitation`: as `get` returned it (current orgName).
   * Clears the request's send claim.
   */
  recordOutcome(invitation: Pick<Invitation, 'id' | 'orgId' | 'orgName'>, seq: number, outcome: DeliveryOutcome, nowMs: number): Promise<boolean>;
  /**
   * Bounce or complaint for the message SES sent, with its event; ignored unless it is the
   * invitation's latest message.
   */
  recordFeedback(
    orgId: number,
    invitationId: string,
    messageId: string,
    status: Extract<EmailStatus, 'BOUNCED' | 'COMPLAINED'>,
    reason: string,
    nowMs: number,
  ): Promise<boolean>;
  /** Invitations whose email has been PENDING since before `requestedBefore` (ISO), oldest first. */
  listPendingEmails(requestedBefore: string, limit: number): Promise<PendingEmail[]>;
}

/** An entry of the timer index (GSI4): an invitation with a deadline, and what the entry holds of it. */
export interface DueTimer {
  readonly orgId: number;
  readonly invitationId: string;
  readonly orgName: string;
  /** The entry's sort key: firing is conditional on it still being the invitation's current one. */
  readonly sortKey: string;
  readonly state: TimerState;
}

export type FireOutcome =
  | { readonly ok: true }
  /** The invitation was not as `timer` said (changed meanwhile): its current entry, if any, to decide again. */
  | { readonly ok: false; readonly current: DueTimer | undefined };

/** Where the next page of a shard's due entries starts (opaque to the service). */
export type TimerCursor = Readonly<Record<string, unknown>>;

export interface DueTimerPage {
  readonly timers: DueTimer[];
  /** The next page's start; none when the shard has no further entry due by the same `nowSeconds`. */
  readonly next: TimerCursor | undefined;
}

export interface TimerStore {
  /**
   * Up to `limit` entries of one shard whose deadline is at or before `nowSeconds`, earliest
   * first, starting `after` a previous page (same shard and `nowSeconds`).
   */
  dueTimers(shard: number, nowSeconds: number, limit: number, after?: TimerCursor): Promise<DueTimerPage>;
  /**
   * Does `action` to the invitation, conditional on it still being as `timer` says (same entry,
   * same state), recording `event` (if any) in the same transaction.
   */
  fire(timer: DueTimer, action: Exclude<TimerAction, { kind: 'none' }>, event: ServiceEvent | undefined, nowMs: number): Promise<FireOutcome>;
}

/** A response kept for an Idempotency-Key, to answer a retry with exactly the same thing. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type IdempotencyClaim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'completed'; readonly response: StoredResponse }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'mismatch' };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) for a request whose content hashes to `fingerprint`, or reports what
   * holds it: the completed response, another request still in flight, or a different request.
   */
  claim(scope: string, key: string, fingerprint: string, nowMs: number): Promise<IdempotencyClaim>;
  complete(scope: string, key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  /** Releases a claim whose request failed, so that a retry runs again. */
  release(scope: string, key: string, fingerprint: string): Promise<void>;
}
