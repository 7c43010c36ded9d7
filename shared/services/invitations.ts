/**
 * Invitation use cases: load what the rules need, apply the domain rules, persist with
 * conditional writes. Handlers call these after parsing; these never see HTTP.
 */
import type { Caller } from '../domain/caller.ts';
import { normalizeEmail } from '../domain/email.ts';
import {
  inviteeAddress,
  isOrgAdmin,
  NO_ORGANIZATION_ID,
  type AdminAuthority,
  requireInvitationViewer,
  requireOrgAdmin,
} from '../domain/access.ts';
import {
  classifyDryRun,
  DEFAULT_INVITATION_OPTIONS,
  decideAnswer,
  decideResend,
  decideRevoke,
  explainLostAnswer,
  explainLostResend,
  explainLostRevoke,
  newInvitation,
  type Invitation,
  type DryRunEntry,
  type DryRunResult,
  type InvitationOptions,
  type InvitationStatus,
  type InvitationTimings,
  type ParsedEmail,
} from '../domain/invitation.ts';
import type { Organization } from '../domain/organization.ts';
import type { RateLimitPolicy, RateLimitState } from '../domain/rate-limit.ts';
import { asOrgAdmin } from './admin-writes.ts';
import { countRequest } from './rate-limits.ts';
import type {
  Clock,
  IdGenerator,
  InvitationListQuery,
  InvitationPage,
  InvitationStore,
  OrganizationStore,
  RateLimiter,
} from '../ports.ts';

export interface InvitationDeps {
  readonly organizations: OrganizationStore;
  readonly invitations: InvitationStore;
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly timings: InvitationTimings;
  readonly rateLimits: { readonly create: RateLimitPolicy; readonly resend: RateLimitPolicy };
  /** FRONTEND_URL, for the invitation links in admins' views. */
  readonly frontendUrl: string;
}

export type SkipReason = 'ALREADY_INVITED' | 'ALREADY_MEMBER';

export interface CreateInvitationsOutcome {
  /** The organization's current name: admin views carry each invitation's link with it. */
  readonly orgName: string;
  readonly invitations: Invitation[];
  readonly skipped: { email: string; reason: SkipReason }[];
  /** Absent for realm admins, who are exempt. */
  readonly rateLimit: RateLimitState | undefined;
}

export async function createInvitations(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  emails: ParsedEmail[],
  options: InvitationOptions = DEFAULT_INVITATION_OPTIONS,
): Promise<CreateInvitationsOutcome> {
  const { organization, memberEmails, authority } = await loadForInviting(deps, caller, orgName);

  // Counted once the request is valid and authorized, before anything is written.
  const rateLimit = await countRequest(deps, caller, 'create');

  const skipped: CreateInvitationsOutcome['skipped'] = [];
  const toInvite: ParsedEmail[] = [];
  for (const email of emails) {
    if (memberEmails.has(email.normalized)) skipped.push({ email: email.address, reason: 'ALREADY_MEMBER' });
    else toInvite.push(email);
  }

  const nowMs = deps.clock.nowMs();
  const candidates = toInvite.map((email) =>
    newInvitation({ id: deps.ids.uuid(), org: organization, email, inviter: caller }, nowMs, deps.timings, options),
  );
  const result =
    candidates.length > 0
      ? await asOrgAdmin(deps, caller, organization.id, () => deps.invitations.createMany(candidates, nowMs, authority))
      : undefined;
  for (const normalized of result?.alreadyInvited ?? []) {
    const email = toInvite.find((e) => e.normalized === normalized)!;
    skipped.push({ email: email.address, reason: 'ALREADY_INVITED' });
  }
  return { orgName: organization.name, invitations: result?.created ?? [], skipped, rateLimit };
}

/**
 * What create would do with each address, without doing it: the same authorization, then one
 * read of the addresses' pending guards. Writes nothing, sends nothing, not rate-limited.
 */
export async function dryRunInvitations(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  entries: readonly DryRunEntry[],
): Promise<DryRunResult[]> {
  const { organization, memberEmails } = await loadForInviting(deps, caller, orgName);
  const candidates = entries.flatMap((entry) =>
    'valid' in entry && !memberEmails.has(entry.valid.normalized) ? [entry.valid.normalized] : [],
  );
  const invited = await deps.invitations.findInvited(organization.id, candidates, deps.clock.nowMs());
  return classifyDryRun(entries, memberEmails, invited);
}

/** The organization, if the caller is one of its admins, and its members' addresses (normalized). */
async function loadForInviting(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
): Promise<{ organization: Organization; memberEmails: Set<string>; authority: AdminAuthority }> {
  const loaded = await deps.organizations.getWithMembers(await resolveOrgId(deps, orgName));
  const membership = loaded?.members.find((m) => m.userId === caller.userId);
  const { organization, authority } = requireOrgAdmin(loaded && { organization: loaded.organization, membership }, caller);
  const memberEmails = new Set(loaded!.members.flatMap((m) => (m.email === undefined ? [] : [normalizeEmail(m.email)])));
  return { organization, memberEmails, authority };
}

export async function listInvitations(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  query: Omit<InvitationListQuery, 'nowMs'>,
): Promise<InvitationPage & { readonly orgName: string }> {
  const orgId = await resolveOrgId(deps, orgName);
  // Access is decided before any invitation is read: a refused caller costs the two lookups
  // the decision needs, however many invitations the organization has.
  const { organization } = requireOrgAdmin(await deps.organizations.getAccess(orgId, caller.userId), caller);
  const page = await deps.invitations.list(organization.id, { ...query, nowMs: deps.clock.nowMs() });
  return { ...page, orgName: organization.name };
}

/**
 * The caller's own live PENDING invitations across all organizations (the token's verified
 * email, access.ts inviteeAddress), newest first, each with its organization's current name.
 */
export async function listMyInvitations(
  deps: InvitationDeps,
  caller: Caller,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<InvitationPage> {
  const address = inviteeAddress(caller);
  if (address === undefined) return { items: [], nextCursor: undefined };
  return deps.invitations.listForInvitee(address, { ...query, nowMs: deps.clock.nowMs() });
}

export async function getInvitation(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  invitationId: string,
): Promise<{ invitation: Invitation; adminOrgName: string | undefined }> {
  const orgId = await resolveOrgId(deps, orgName);
  const { invitation, access } = await deps.invitations.getWithAccess(orgId, invitationId, caller.userId);
  const visible = requireInvitationViewer(invitation, access, caller);
  // Org admins see the invitation's link (with the organization's current name); the invitee does not need it.
  const admin = access !== undefined && isOrgAdmin(access.organization, access.membership, caller);
  return { invitation: visible, adminOrgName: admin ? access.organization.name : undefined };
}

export async function answerInvitation(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  invitationId: string,
  requested: InvitationStatus,
): Promise<Invitation> {
  const orgId = await resolveOrgId(deps, orgName);
  // One read: the invitation and the organization, whose current name the answer's events carry.
  const { invitation, access } = await deps.invitations.getWithAccess(orgId, invitationId, caller.userId);
  // The invitee only (access.ts requireInvitee), and only a pending, unexpired invitation.
  const decision = decideAnswer(invitation, caller, requested, deps.clock.nowMs());
  if (decision.kind === 'unchanged') return invitation!;
  const nowMs = deps.clock.nowMs();
  const current = { ...invitation!, orgName: access?.organization.name ?? invitation!.orgName };
  const result = await deps.invitations.answer(current, { status: decision.status, caller }, nowMs);
  if (result.ok) return result.invitation;
  throw explainLostAnswer(result.current, nowMs);
}

export interface ResendOutcome {
  readonly invitation: Invitation;
  /** The organization's current name, for the link in the admin's view. */
  readonly orgName: string;
  readonly rateLimit: RateLimitState | undefined;
}

export async function resendInvitation(
  deps: InvitationDeps,
  caller: Caller,
  orgId: number,
  invitationId: string,
): Promise<ResendOutcome> {
  const { invitation, access } = await deps.invitations.getWithAccess(orgId, invitationId, caller.userId);
  const { organization, authority } = requireOrgAdmin(access, caller);
  const nowMs = deps.clock.nowMs();
  // Decided before counting the request, so a refused resend (410, 400) costs no rate budget.
  const change = decideResend(invitation, nowMs, deps.timings);
  const rateLimit = await countRequest(deps, caller, 'resend', nowMs);
  const result = await asOrgAdmin(deps, caller, organization.id, () =>
    deps.invitations.resend({ ...invitation!, orgName: organization.name }, change, caller, nowMs, authority),
  );
  if (result.ok) return { invitation: result.invitation, orgName: organization.name, rateLimit };
  throw explainLostResend(result.current, nowMs);
}

/**
 * Revoke: org admins withdraw a PENDING invitation (live or expired). Not rate-limited: it sends
 * nothing and each invitation can be revoked once.
 */
export async function revokeInvitation(
  deps: InvitationDeps,
  caller: Caller,
  orgName: string,
  invitationId: string,
): Promise<void> {
  const orgId = await resolveOrgId(deps, orgName);
  const { invitation, access } = await deps.invitations.getWithAccess(orgId, invitationId, caller.userId);
  const { organization, authority } = requireOrgAdmin(access, caller);
  const pending = decideRevoke(invitation);
  // The events carry the organization's current name.
  const result = await asOrgAdmin(deps, caller, organization.id, () =>
    deps.invitations.revoke({ ...pending, orgName: organization.name }, caller, deps.clock.nowMs(), authority),
  );
  if (!result.ok) throw explainLostRevoke(result.current);
}

/**
 * The id a name resolves to (an old name of a renamed organization included), or an id no
 * organization has: the reads that follow then find nothing, at the same cost as for an
 * organization the caller may not see.
 */
export async function resolveOrgId(deps: Pick<InvitationDeps, 'organizations' | 'clock'>, orgName: string): Promise<number> {
  return (await deps.organizations.findIdByName(orgName, deps.clock.nowMs())) ?? NO_ORGANIZATION_ID;
}
