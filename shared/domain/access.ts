/**
 * Who may see and act on an organization and its invitations: the one home of these rules.
 *
 * An organization the caller may not see (PRIVATE, and the caller neither a member nor a realm
 * admin) looks exactly like one that does not exist: the same 404, status and body, on every
 * route that names one. The services make both cost the same reads (see NO_ORGANIZATION_ID), so
 * neither the answer nor the work done tells a stranger that a PRIVATE organization exists.
 * Whoever may see an organization but is not its admin gets 401 on admin routes, as the spec says.
 */
import type { Caller } from './caller.ts';
import { normalizeEmail } from './email.ts';
import { emailNotVerified, invalidInput, notAuthorized, notFound } from './errors.ts';
import type { Invitation } from './invitation.ts';
import type { Membership, Organization } from './organization.ts';

/** An organization plus the caller's membership in it (if any), as the stores load it. */
export interface AccessFacts {
  readonly organization: Organization;
  readonly membership: Membership | undefined;
}

/**
 * Organization ids start at 1, so no organization has id 0. When a name does not resolve, the
 * services still read the organization's items under this id: an unknown organization then
 * costs exactly the reads of an invisible one.
 */
export const NO_ORGANIZATION_ID = 0;

export const organizationNotFound = () => notFound('Organization not found.');
export const invitationNotFound = () => notFound('Invitation not found.');
const onlyAdmins = () => notAuthorized('Only organization admins can do this.');

/**
 * What an org admin's authority rests on, and so what their write must re-check when it lands
 * (the authority was read before it; a demotion or removal may land in between):
 * - `static`: the realm role (from the token) or being the creator (immutable): nothing a
 *   concurrent request can take away, so no condition;
 * - `membership`: an ADMIN membership, which a concurrent PATCH or DELETE of the member takes
 *   away: the write must require, in the same transaction, that it is still there and ADMIN.
 */
export type AdminAuthority =
  | { readonly kind: 'static' }
  | { readonly kind: 'membership'; readonly orgId: number; readonly userId: string };

/** The caller's authority as an org admin (the creator, an ADMIN member or a realm admin), or undefined. */
export function adminAuthority(org: Organization, membership: Membership | undefined, caller: Caller): AdminAuthority | undefined {
  if (caller.isRealmAdmin || org.creator.id === caller.userId) return { kind: 'static' };
  if (membership?.associationType === 'ADMIN') return { kind: 'membership', orgId: org.id, userId: membership.userId };
  return undefined;
}

/** Org admin: the creator, an ADMIN member, or a realm admin. */
export function isOrgAdmin(org: Organization, membership: Membership | undefined, caller: Caller): boolean {
  return adminAuthority(org, membership, caller) !== undefined;
}

/**
 * Thrown by a store when an admin write found the caller's ADMIN membership gone or demoted
 * (AdminAuthority `membership`): nothing was written. The service re-reads and answers what the
 * rules now say.
 */
export class AdminAuthorityLost extends Error {
  constructor() {
    super('The caller is no longer an admin of the organization.');
    this.name = 'AdminAuthorityLost';
  }
}

/** PRIVATE organizations are visible to members and org admins only. */
export function canSeeOrganization(org: Organization, membership: Membership | undefined, caller: Caller): boolean {
  return org.visibility === 'PUBLIC' || membership !== undefined || isOrgAdmin(org, membership, caller);
}

/** Reading an organization: 404 when it is unknown or invisible to the caller. */
export function requireOrgVisible<T extends AccessFacts>(access: T | undefined, caller: Caller): T {
  if (!access || !canSeeOrganization(access.organization, access.membership, caller)) throw organizationNotFound();
  return access;
}

/**
 * Admin routes: 404 when unknown or invisible, 401 when visible but the caller is not an org
 * admin. Returns the facts with the authority every write of the request must carry.
 */
export function requireOrgAdmin<T extends AccessFacts>(access: T | undefined, caller: Caller): T & { authority: AdminAuthority } {
  const visible = requireOrgVisible(access, caller);
  const authority = adminAuthority(visible.organization, visible.membership, caller);
  if (!authority) throw onlyAdmins();
  return { ...visible, authority };
}

/**
 * Reading an invitation: org admins, and the invitee with a verified email (whether or not they
 * could see the organization: they are not a member yet). Everyone else, and an unknown or
 * invisible organization, gets the same 404 as an unknown invitation id, so nothing can be probed.
 */
export function requireInvitationViewer(
  invitation: Invitation | undefined,
  access: AccessFacts | undefined,
  caller: Caller,
): Invitation {
  if (!invitation) throw invitationNotFound();
  if (access && isOrgAdmin(access.organization, access.membership, caller)) return invitation;
  return requireInvitee(invitation, caller);
}

/**
 * Reading an invitation's events (its audit trail): org admins only. Everyone else, and an
 * unknown or invisible organization, gets the same 404 as an unknown invitation (a member who
 * is not an admin too: the trail is no business of theirs, and a 401 would confirm the id).
 */
export function requireInvitationAuditor<T extends AccessFacts>(access: T | undefined, caller: Caller): T {
  if (!access || !isOrgAdmin(access.organization, access.membership, caller)) throw invitationNotFound();
  return access;
}

/** The invitee: the caller whose token email is the invited address (compared normalized). */
export function isInvitee(invitation: Invitation, caller: Caller): boolean {
  return caller.email !== undefined && normalizeEmail(caller.email) === invitation.emailNormalized;
}

/**
 * "My invitations": the address whose invitations the caller may list, normalized as invitations
 * store it, matched as isInvitee matches it; only once verified (400, code 1001, as reading or
 * answering one requires). A token without an email has no address anything could be sent to:
 * undefined, and the list is simply empty.
 */
export function inviteeAddress(caller: Caller): string | undefined {
  if (caller.email === undefined) return undefined;
  if (!caller.emailVerified) throw emailNotVerified();
  return normalizeEmail(caller.email);
}

/** Answering an invitation: the invitee only (by verified email); org admins included, anyone else sees 404. */
export function requireInvitee(invitation: Invitation | undefined, caller: Caller): Invitation {
  if (!invitation || !isInvitee(invitation, caller)) throw invitationNotFound();
  if (!caller.emailVerified) throw emailNotVerified();
  return invitation;
}

export const memberNotFound = () => notFound('Member not found.');

/** An organization, the caller's membership and the membership of the member acted on (if any). */
export interface MemberAccessFacts extends AccessFacts {
  readonly target: Membership | undefined;
}

/**
 * Removing a member: an org admin removes any member but the creator; any member removes
 * themself (leaves). 404 when the organization is unknown or invisible, 401 when a non-admin
 * names someone else, 400 for the creator (who cannot leave their organization), 404 when the
 * user is not a member. Returns the membership to remove and the authority the removal rests on:
 * undefined for leaving, which needs none (only the membership itself, which the removal
 * requires to exist anyway).
 */
export function requireMemberRemover(
  access: MemberAccessFacts | undefined,
  targetUserId: string,
  caller: Caller,
): { target: Membership; authority: AdminAuthority | undefined } {
  const { organization, membership, target } = requireOrgVisible(access, caller);
  const leaving = targetUserId === caller.userId;
  const authority = leaving ? undefined : adminAuthority(organization, membership, caller);
  if (!leaving && !authority) throw onlyAdmins();
  if (organization.creator.id === targetUserId) {
    throw invalidInput(leaving ? 'The creator of an organization cannot leave it.' : 'The creator of an organization cannot be removed.');
  }
  if (!target) throw memberNotFound();
  return { target, authority };
}

/**
 * Changing a member's role: org admins only (404 unknown or invisible, 401 otherwise), never the
 * creator's (400: the creator is always an admin), 404 when the user is not a member.
 */
export function requireMemberRoleChanger(
  access: MemberAccessFacts | undefined,
  targetUserId: string,
  caller: Caller,
): { target: Membership; authority: AdminAuthority } {
  const { organization, target, authority } = requireOrgAdmin(access, caller);
  if (organization.creator.id === targetUserId) throw invalidInput("The role of the organization's creator cannot be changed.");
  if (!target) throw memberNotFound();
  return { target, authority };
}
