/** Organization use cases: the Jaqpot-compatible subset this service needs to stand alone. */
import { NO_ORGANIZATION_ID, requireOrgAdmin, requireOrgVisible } from '../domain/access.ts';
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
import { asOrgAdmin } from './admin-writes.ts';
import { countRequest } from './rate-limits.ts';
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
  const rateLimit = await countRequest(deps, caller, 'createOrganization');
  const organization = await deps.organizations.create(input, caller, deps.clock.nowMs());
  return { organization, rateLimit };
}

/** The organization, the caller's membership and all members: what its JSON shows. */
export async function getOrganization(deps: OrganizationDeps, caller: Caller, name: string) {
  const orgId = await deps.organizations.findIdByName(name, deps.clock.nowMs());
  const loaded = await deps.organizations.getWithMembers(orgId ?? NO_ORGANIZATION_ID);
  const membership = loaded?.members.find((m) => m.userId === caller.userId);
  const { organization } = requireOrgVisible(loaded && { organization: loaded.organization, membership }, caller);
  return { organization, membership, members: loaded!.members };
}

export async function updateOrganization(
  deps: OrganizationDeps,
  caller: Caller,
  orgId: number,
  update: OrganizationUpdate,
): Promise<OrganizationOutcome & { membership: Membership | undefined }> {
  const { organization, membership, authority } = requireOrgAdmin(await deps.organizations.getAccess(orgId, caller.userId), caller);
  // Counted once the request is valid and authorized, before anything is written.
  const rateLimit = await countRequest(deps, caller, 'updateOrganization');
  const nowMs = deps.clock.nowMs();
  const reservedUntil = renamedNameReservedUntil(nowMs, deps.timings);
  const updated = await asOrgAdmin(deps, caller, organization.id, () =>
    deps.organizations.update(organization, update, nowMs, reservedUntil, authority),
  );
  return { organization: updated, membership, rateLimit };
}

/** The organizations the caller created or belongs to, by name. */
export async function listUserOrganizations(deps: Pick<OrganizationDeps, 'organizations'>, caller: Caller) {
  const found = await deps.organizations.listForUser(caller.userId);
  return found.sort((a, b) => a.organization.name.localeCompare(b.organization.name));
}
