/**
 * What the services need from the outside world. Adapters in shared/adapters implement these
 * with DynamoDB and the system clock; tests may substitute them. Nothing here imports an SDK.
 */
import type { Caller } from './domain/caller.ts';
import type { Invitation, InvitationStatusFilter } from './domain/invitation.ts';
import type { Membership, NewOrganizationInput, Organization, OrganizationUpdate } from './domain/organization.ts';
import type { RateLimitPolicy, RateLimitState } from './domain/rate-limit.ts';

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

export interface OrganizationStore {
  findIdByName(name: string): Promise<number | undefined>;
  getWithMembers(orgId: number): Promise<OrganizationWithMembers | undefined>;
  getAccess(orgId: number, userId: string): Promise<OrganizationAccess | undefined>;
  /** Allocates the id; throws CONFLICT when the name is taken. The creator becomes an ADMIN member. */
  create(input: NewOrganizationInput, creator: Caller, nowMs: number): Promise<Organization>;
  listForUser(userId: string): Promise<OrganizationAccess[]>;
  /** Applies the update (renaming atomically); throws CONFLICT when the new name is taken. */
  update(current: Organization, update: OrganizationUpdate, nowMs: number): Promise<Organization>;
}

export interface CreateInvitationsResult {
  readonly created: Invitation[];
  /** Normalized addresses that already had a live invitation. */
  readonly alreadyInvited: string[];
}

export interface InvitationPage {
  readonly items: Invitation[];
  readonly nextCursor: string | undefined;
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
  createMany(invitations: Invitation[], nowMs: number): Promise<CreateInvitationsResult>;
  list(
    orgId: number,
    query: { limit?: number; cursor?: string; status?: InvitationStatusFilter; nowMs: number },
  ): Promise<InvitationPage>;
  /**
   * Records the invitee's answer if the invitation is still PENDING and unexpired; accepting also
   * makes the caller a MEMBER in the same transaction. Returns the stored state instead when the
   * condition no longer holds, so the caller can explain why.
   */
  answer(
    invitation: Invitation,
    answer: { status: 'ACCEPTED' | 'REJECTED'; caller: Caller },
    nowMs: number,
  ): Promise<{ ok: true; invitation: Invitation } | { ok: false; current: Invitation | undefined }>;
  /** Moves the expiry and counts a send, if the invitation is still PENDING and unexpired. */
  resend(
    invitation: Invitation,
    change: { expiresAt: number; sentAt: string },
    nowMs: number,
  ): Promise<{ ok: true; invitation: Invitation } | { ok: false; current: Invitation | undefined }>;
}

export interface RateLimiter {
  /** Counts one request; throws RATE_LIMITED (with the state in its details) when over the limit. */
  consume(action: string, userId: string, policy: RateLimitPolicy, nowMs: number): Promise<RateLimitState>;
}
