/** Organization use cases: the Jaqpot-compatible subset this service needs to stand alone. */
import type { Caller } from '../domain/caller.ts';
import { notAuthorized, notFound } from '../domain/errors.ts';
import {
  canSeeOrganization,
  isOrgAdmin,
  type Membership,
  type NewOrganizationInput,
  type Organization,
  type OrganizationUpdate,
} from '../domain/organization.ts';
import type { Clock, OrganizationStore } from '../ports.ts';

export interface OrganizationDeps {
  readonly organizations: OrganizationStore;
  readonly clock: Clock;
}

export function createOrganization(deps: OrganizationDeps, caller: Caller, input: NewOrganizationInput) {
  return deps.organizations.create(input, caller, deps.clock.nowMs());
}

export async function getOrganization(deps: OrganizationDeps, caller: Caller, name: string) {
  const orgId = await deps.organizations.findIdByName(name);
  const loaded = orgId === undefined ? undefined : await deps.organizations.getWithMembers(orgId);
  const membership = loaded?.members.find((m) => m.userId === caller.userId);
  if (!loaded || !canSeeOrganization(loaded.organization, membership, caller)) {
    throw notFound('Organization not found.');
  }
  return toOrganizationView(loaded.organization, membership, caller, loaded.members);
}

export async function updateOrganization(deps: OrganizationDeps, caller: Caller, orgId: number, update: OrganizationUpdate) {
  const access = await deps.organizations.getAccess(orgId, caller.userId);
  if (!access || !canSeeOrganization(access.organization, access.membership, caller)) {
    throw notFound('Organization not found.');
  }
  if (!isOrgAdmin(access.organization, access.membership, caller)) {
    throw notAuthorized('Only organization admins can do this.');
  }
  const updated = await deps.organizations.update(access.organization, update, deps.clock.nowMs());
  return toOrganizationView(updated, access.membership, caller);
}

export async function listUserOrganizations(deps: OrganizationDeps, caller: Caller) {
  const found = await deps.organizations.listForUser(caller.userId);
  return found
    .map(({ organization, membership }) => toOrganizationView(organization, membership, caller))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The spec's Organization JSON. Members are listed only when the organization is read on its own. */
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
      organizationMembers: members.map((m) => ({
        userId: m.userId,
        ...(m.username !== undefined && { username: m.username }),
        ...(m.email !== undefined && { email: m.email }),
        associationType: m.associationType,
      })),
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

