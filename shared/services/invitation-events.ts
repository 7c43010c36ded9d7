/**
 * The audit trail: an invitation's events, for its organization's admins. The events outlive
 * the invitation (revoked, or deleted by TTL): they have a retention of their own.
 */
import { invitationNotFound, requireInvitationAuditor } from '../domain/access.ts';
import type { Caller } from '../domain/caller.ts';
import type { Clock, EventListQuery, EventPage, EventStore, InvitationStore, OrganizationStore } from '../ports.ts';
import { resolveOrgId } from './invitations.ts';

export interface EventDeps {
  readonly organizations: OrganizationStore;
  readonly invitations: InvitationStore;
  readonly events: EventStore;
  readonly clock: Clock;
}

export async function listInvitationEvents(
  deps: EventDeps,
  caller: Caller,
  orgName: string,
  invitationId: string,
  query: Omit<EventListQuery, 'nowMs'>,
): Promise<EventPage> {
  const orgId = await resolveOrgId(deps, orgName);
  // Decided before any event is read: a refused caller costs the same reads, whatever exists.
  const { organization } = requireInvitationAuditor(await deps.organizations.getAccess(orgId, caller.userId), caller);
  const nowMs = deps.clock.nowMs();
  const page = await deps.events.listInvitationEvents(organization.id, invitationId, { ...query, nowMs });
  // No events: an unknown id (404), unless the invitation itself is there (one recorded before
  // events were, answered with its empty trail). A later page may be empty: its cursor said so.
  if (page.items.length === 0 && query.cursor === undefined && !(await deps.invitations.get(organization.id, invitationId))) {
    throw invitationNotFound();
  }
  return page;
}
