/** Organization use cases: the Jaqpot-compatible subset this service needs to stand alone. */
import { isOrgAdmin, NO_ORGANIZATION_ID, requireOrgAdmin, requireOrgVisible } from '../domain/access.ts';
import type { Caller } from '../domain/caller.ts';
import type { InvitationTimings } from '../domain/invitation.ts';
import {
  renamedNameReservedUntil,
  type Membership,
  type NewOrganizationInput,
  type Organization,
  type OrganizationUpdate,
} from '../domain/organization.ts';
import type { RateLimitPolicy, RateLimitState } from '../domain/rate-limit.ts';
import type { Clock, OrganizationStore, RateLimiter } from '../ports.ts';

export interface OrganizationDeps {
  readonly organizations: OrganizationStore;
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  /** How long invitation links stay answerable and readable: an old name stays reserved that long. */
  readonly timings: InvitationTimings;
  readonly rateLimits: { readonly createOrganization: RateLimitPolicy; readonly updateOrganization: RateLimitPolicy };
}

export interface OrganizationOutcome {
  readonly organization: Organization;
  /** Absent for realm admins, who are exempt. */
  readonly rateLimit: RateLimitState | undefined;
}

export async function createOrganization(deps: OrganizationDeps, caller: Caller, input: NewOrganizationInput): Promise<OrganizationOutcome> {
  // Anyone signed in may create: the request counts once its body is valid.
  const rateLimit = caller.isRealmAdmin
    ? undefined
    : await deps.rateLimiter.consume('createOrganization', caller.userId, deps.rateLimits.createOrganization, deps.clock.nowMs());
  const organization = await deps.organizations.create(input, caller, deps.clock.nowMs());
  return { organization, rateLimit };
}

export async function getOrganization(deps: OrganizationDeps, caller: Caller, name: string) {
  const orgId = await deps.organizations.findIdByName(name, deps.clock.nowMs());
  const loaded = await deps.organizations.getWithMembers(orgId ?? NO_ORGANIZATION_ID);
  const membership = loaded?.members.find((m) => m.userId === caller.userId);
  const { organization } = requireOrgVisible(loaded && { organization: loaded.organization, membership }, caller);
  return toOrganizationView(organization, membership, caller, loaded!.members);
}

export async function updateOrganization(
  deps: OrganizationDeps,
  caller: Caller,
  orgId: number,
  update: OrganizationUpdate,
): Promise<{ view: OrganizationView; rateLimit: RateLimitState | undefined }> {
  const { organization, membership } = requireOrgAdmin(await deps.organizations.getAccess(orgId, caller.userId), caller);
  // Counted once the request is valid and authorized, before anything is written.
  const rateLimit = caller.isRealmAdmin
    ? undefined
    : await deps.rateLimiter.consume('updateOrganization', caller.userId, deps.rateLimits.updateOrganization, deps.clock.nowMs());
  const nowMs = deps.clock.nowMs();
  const updated = await deps.organizations.update(organization, update, nowMs, renamedNameReservedUntil(nowMs, deps.timings));
  return { view: toOrganizationView(updated, membership, caller), rateLimit };
}

export async function listUserOrganizations(deps: Pick<OrganizationDeps, 'organizations'>, caller: Caller) {
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

export type OrganizationView = ReturnType<typeof toOrganizationView>;
