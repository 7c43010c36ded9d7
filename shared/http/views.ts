/** The JSON clients see: the spec's shapes, built from domain records. */
import { isOrgAdmin } from '../domain/access.ts';
import type { Caller } from '../domain/caller.ts';
import { expirationDate, visibleStatus, type Invitation } from '../domain/invitation.ts';
import { invitationLink } from '../domain/invitation-email.ts';
import type { Membership, Organization } from '../domain/organization.ts';

/**
 * The spec's OrganizationInvitation plus read-only extras. `link` (admins' views only, see
 * toAdminInvitationView): the URL the invitation email carries.
 */
export function toInvitationView(invitation: Invitation, link?: string) {
  return {
    id: invitation.id,
    userEmail: invitation.userEmail,
    status: visibleStatus(invitation),
    associationType: invitation.associationType,
    expirationDate: expirationDate(invitation),
    ...(invitation.userId !== undefined && { userId: invitation.userId }),
    createdAt: invitation.createdAt,
    invitedBy: invitation.invitedBy,
    ...(invitation.respondedAt !== undefined && { respondedAt: invitation.respondedAt }),
    emailStatus: invitation.emailStatus,
    sendCount: invitation.sendCount,
    ...(invitation.lastSentAt !== undefined && { lastSentAt: invitation.lastSentAt }),
    ...(invitation.lastError !== undefined && { lastError: invitation.lastError }),
    ...(link !== undefined && { link }),
  };
}
export type InvitationView = ReturnType<typeof toInvitationView>;

/**
 * An entry of "my invitations": the invitee's view (no `link`) plus the organization, by id and
 * current name, and the inviter as the email names them (absent when their token named nobody).
 * `orgName` must be the current name (the store sets it).
 */
export function toMyInvitationView(invitation: Invitation) {
  return {
    ...toInvitationView(invitation),
    orgId: invitation.orgId,
    orgName: invitation.orgName,
    ...(invitation.inviterName !== undefined && { inviterName: invitation.inviterName }),
  };
}

/** The spec's OrganizationUser: a member, as `organizationMembers` lists them. */
export function toMemberView(m: Membership) {
  return {
    userId: m.userId,
    ...(m.username !== undefined && { username: m.username }),
    ...(m.email !== undefined && { email: m.email }),
    associationType: m.associationType,
  };
}

/**
 * An org admin's view: with the link the email carries (or would carry: link-only invitations),
 * built as the email builds it, with the organization's current name.
 */
export function toAdminInvitationView(invitation: Invitation, site: { frontendUrl: string; orgName: string }) {
  return toInvitationView(
    invitation,
    invitationLink({ frontendUrl: site.frontendUrl, orgName: site.orgName, invitationId: invitation.id }),
  );
}

/** The spec's Organization. Members are listed only when the organization is read on its own. */
export function toOrganizationView(
  org: Organization,
  membership: Membership | undefined,
  caller: Caller,
  members?: readonly Membership[],
) {
  return {
    id: org.id,
    name: org.name,
    creator: org.creator,
    visibility: org.visibility,
    ...(org.description !== undefined && { description: org.description }),
    ...(members && {
      organizationMembers: members.map(toMemberView),
    }),
    contactEmail: org.contactEmail,
    ...(org.contactPhone !== undefined && { contactPhone: org.contactPhone }),
    ...(org.website !== undefined && { website: org.website }),
    ...(org.address !== undefined && { address: org.address }),
    canEdit: isOrgAdmin(org, membership, caller),
    isMember: membership !== undefined,
    created_at: org.createdAt,
    updated_at: org.updatedAt,
  };
}
export type OrganizationView = ReturnType<typeof toOrganizationView>;
