/**
 * Admin writes hold only while the admin is one. The access rules (shared/domain/access.ts)
 * return the caller's `AdminAuthority` with the facts they read; every admin write carries it
 * to the store, which makes the write conditional on it (for an ADMIN membership: still there,
 * still ADMIN, in the same transaction). When that condition is what failed, the caller was
 * demoted or removed after the authority was read: nothing was written, and this re-reads and
 * answers what the rules say now.
 */
import { AdminAuthorityLost, requireOrgAdmin } from '../domain/access.ts';
import type { Caller } from '../domain/caller.ts';
import { DomainError } from '../domain/errors.ts';
import type { OrganizationStore } from '../ports.ts';

/**
 * Runs `write`; if it lost the caller's authority, throws what the rules now answer the caller:
 * 401 once demoted, and once removed 401 (PUBLIC) or the 404 of an organization they may not see
 * (PRIVATE). Should the caller be an admin again by the time of the re-read (demoted and promoted
 * back meanwhile), nothing was written and a retry is safe: 503.
 */
export async function asOrgAdmin<T>(
  deps: { readonly organizations: OrganizationStore },
  caller: Caller,
  orgId: number,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof AdminAuthorityLost)) throw error;
    requireOrgAdmin(await deps.organizations.getAccess(orgId, caller.userId), caller);
    throw new DomainError('UNAVAILABLE', 'The organization changed while processing the request. Please retry.');
  }
}
