/**
 * Organization members: removing one (an admin removes, a member leaves) and changing a role.
 * The rules are in shared/domain/access.ts; the writes are conditioned on the membership still
 * existing, so a removal racing a role change ends in exactly one coherent state: either the
 * change lands first and the removal then deletes it, or the removal lands first and the change
 * finds no member (404) and writes nothing. An admin's write also requires their own authority
 * to still hold (shared/services/admin-writes.ts); a member leaving needs none.
 */
import { requireMemberRemover, requireMemberRoleChanger, memberNotFound } from '../domain/access.ts';
import type { Caller } from '../domain/caller.ts';
import type { AssociationType, Membership } from '../domain/organization.ts';
import type { Clock, OrganizationStore } from '../ports.ts';
import { asOrgAdmin } from './admin-writes.ts';
import { resolveOrgId } from './invitations.ts';

export interface MemberDeps {
  readonly organizations: OrganizationStore;
  readonly clock: Clock;
}

/** The organization (by name, old names included), the caller's membership and the target's. */
async function loadMemberAccess(deps: MemberDeps, caller: Caller, orgName: string, userId: string) {
  // An unresolved name still costs the same BatchGetItem, under an id no organization has.
  return deps.organizations.getMemberAccess(await resolveOrgId(deps, orgName), caller.userId, userId);
}

export async function removeMember(deps: MemberDeps, caller: Caller, orgName: string, userId: string): Promise<void> {
  const access = await loadMemberAccess(deps, caller, orgName, userId);
  const { target, authority } = requireMemberRemover(access, userId, caller);
  // Gone meanwhile (removed, or left, concurrently): the same 404 as a non-member.
  const removed = await asOrgAdmin(deps, caller, target.orgId, () =>
    deps.organizations.removeMember(access!.organization, target.userId, caller.userId, deps.clock.nowMs(), authority),
  );
  if (!removed) throw memberNotFound();
}

export async function changeMemberRole(
  deps: MemberDeps,
  caller: Caller,
  orgName: string,
  userId: string,
  associationType: AssociationType,
): Promise<Membership> {
  const access = await loadMemberAccess(deps, caller, orgName, userId);
  const { target, authority } = requireMemberRoleChanger(access, userId, caller);
  const updated = await asOrgAdmin(deps, caller, target.orgId, () =>
    deps.organizations.setMemberRole(access!.organization, target, associationType, caller.userId, deps.clock.nowMs(), authority),
  );
  if (!updated) throw memberNotFound();
  return updated;
}
