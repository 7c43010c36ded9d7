import { DomainError } from './errors.ts';
import { INVITATION_LIFETIME, type InvitationTimings } from './invitation.ts';

export type OrganizationVisibility = 'PUBLIC' | 'PRIVATE';
export type AssociationType = 'ADMIN' | 'MEMBER';

export interface Organization {
  readonly id: number;
  readonly name: string;
  readonly visibility: OrganizationVisibility;
  readonly contactEmail: string;
  readonly description?: string;
  readonly contactPhone?: string;
  readonly website?: string;
  readonly address?: string;
  readonly creator: { readonly id: string; readonly username?: string; readonly email?: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Membership {
  readonly orgId: number;
  readonly userId: string;
  readonly username?: string;
  readonly email?: string;
  readonly associationType: AssociationType;
}

export type NewOrganizationInput = Pick<
  Organization,
  'name' | 'visibility' | 'contactEmail' | 'description' | 'contactPhone' | 'website' | 'address'
>;

/**
 * The organization-name rule (the Jaqpot spec's): 3 to 200 letters, digits, "_" or "-". Names
 * appear in paths and emailed links, so nothing else is allowed. The one home of this rule: the
 * request declarations (shared/http) build the body field and the path parameter from it.
 */
export const ORGANIZATION_NAME = { pattern: /^[\w-]+$/, minLength: 3, maxLength: 200 } as const;

export const ASSOCIATION_TYPES: readonly AssociationType[] = ['ADMIN', 'MEMBER'];

export const ORGANIZATION_VISIBILITIES: readonly OrganizationVisibility[] = ['PUBLIC', 'PRIVATE'];

/** Bounds of the free-text fields (description as the Jaqpot spec has it; the others ours). */
export const ORGANIZATION_TEXT_LIMITS = {
  description: { minLength: 3, maxLength: 50_000 },
  other: { maxLength: 1000 },
} as const;

/**
 * A partial update. name, contactEmail and visibility are required (the spec's schema);
 * description: absent keeps the stored one, `null` clears it, a string replaces it.
 */
export interface OrganizationUpdate {
  readonly name: string;
  readonly contactEmail: string;
  readonly visibility: OrganizationVisibility;
  readonly description?: string | null;
}

/** The organization after `update`: what the store writes field by field. */
export function applyOrganizationUpdate(current: Organization, update: OrganizationUpdate, nowMs: number): Organization {
  const { description, ...required } = update;
  const updated: Organization = { ...current, ...required, updatedAt: new Date(nowMs).toISOString() };
  if (description === null) return { ...updated, description: undefined };
  return description === undefined ? updated : { ...updated, description };
}

/**
 * How long a renamed organization's old name keeps resolving to it, and stays reserved for it
 * (epoch seconds). Every email naming the old name was sent before the rename (resends and new
 * invitations afterwards name the new one), so its invitation can be answered until at most
 * rename + the longest invitation lifetime (INVITATION_EXPIRY_SECONDS, or the longest a create
 * request may ask for, `expiresInSeconds`), and stays readable (as expired) for
 * INVITATION_RETENTION_SECONDS more, until TTL may delete it. Until then the link must keep
 * opening this organization, and nobody else may take the name.
 */
export function renamedNameReservedUntil(nowMs: number, timings: InvitationTimings): number {
  const longestLifetime = Math.max(timings.expirySeconds, INVITATION_LIFETIME.maxSeconds);
  return Math.floor(nowMs / 1000) + longestLifetime + timings.retentionSeconds;
}

/**
 * A stored name → id entry: the organization's current name, or an old name it had (an alias,
 * until `aliasUntil`, epoch seconds). TTL deletes expired aliases lazily, so this checks the clock.
 */
export interface OrganizationNameEntry {
  readonly orgId: number;
  readonly aliasUntil?: number;
}

export function resolvesTo(entry: OrganizationNameEntry | undefined, nowMs: number): number | undefined {
  if (!entry) return undefined;
  if (entry.aliasUntil !== undefined && nowMs >= entry.aliasUntil * 1000) return undefined;
  return entry.orgId;
}

/** 409 for a name that is still reserved for the organization that recently used it. */
export function nameRecentlyUsed(name: string, aliasUntil: number) {
  return new DomainError(
    'CONFLICT',
    `The name "${name}" was recently used by another organization and is reserved for it until ${new Date(aliasUntil * 1000).toISOString()}.`,
  );
}

export const nameTaken = (name: string) => new DomainError('CONFLICT', `An organization named "${name}" already exists.`);
