import { isValidEmail } from './email.ts';
import { DomainError, invalidInput } from './errors.ts';
import type { InvitationTimings } from './invitation.ts';

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

const NAME = /^[\w-]{3,200}$/;
const VISIBILITIES: readonly OrganizationVisibility[] = ['PUBLIC', 'PRIVATE'];
const OPTIONAL_TEXT_MAX = 1000;

/**
 * Validates a create-organization body (the spec's Organization). Read-only fields a client may
 * echo back (creator, organizationMembers, canEdit, ...) are ignored; an `id` is refused because
 * ids are allocated by the service.
 */
export function parseNewOrganization(body: unknown): NewOrganizationInput {
  if (!isPlainObject(body)) throw invalidInput('The request body must be a JSON object.');
  if (body.id !== undefined) throw invalidInput('The organization id is assigned by the service; do not send one.');
  const name = requiredString(body, 'name');
  if (!NAME.test(name)) {
    throw invalidInput('name must be 3 to 200 characters of letters, digits, "_" or "-".');
  }
  const contactEmail = requiredString(body, 'contactEmail');
  if (!isValidEmail(contactEmail)) throw invalidInput('contactEmail is not a valid email address.');
  const visibility = requiredString(body, 'visibility');
  if (!VISIBILITIES.includes(visibility as OrganizationVisibility)) {
    throw invalidInput('visibility must be PUBLIC or PRIVATE.');
  }
  const description = optionalString(body, 'description', 50_000);
  if (description !== undefined && description.length < 3) {
    throw invalidInput('description must be at least 3 characters.');
  }
  return {
    name,
    contactEmail,
    visibility: visibility as OrganizationVisibility,
    description,
    contactPhone: optionalString(body, 'contactPhone', OPTIONAL_TEXT_MAX),
    website: optionalString(body, 'website', OPTIONAL_TEXT_MAX),
    address: optionalString(body, 'address', OPTIONAL_TEXT_MAX),
  };
}

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

const UPDATABLE_FIELDS = new Set(['name', 'contactEmail', 'visibility', 'description']);

/**
 * Validates a partial-update body (the spec's PATCH /v1/organizations/{id}/partial schema, which
 * has additionalProperties: false): name, contactEmail and visibility required, description optional.
 * An omitted description keeps its value (as the Jaqpot server does); `null` clears it.
 */
export function parseOrganizationUpdate(body: unknown): OrganizationUpdate {
  if (!isPlainObject(body)) throw invalidInput('The request body must be a JSON object.');
  const unknown = Object.keys(body).filter((field) => !UPDATABLE_FIELDS.has(field));
  if (unknown.length > 0) {
    // Name a few, shortened: the message must not echo an arbitrarily large body back.
    const named = unknown.slice(0, 3).map((field) => (field.length > 40 ? `${field.slice(0, 39)}…` : field));
    const more = unknown.length > named.length ? ` and ${unknown.length - named.length} more` : '';
    throw invalidInput(`Only name, contactEmail, visibility and description can be updated; got ${named.join(', ')}${more}.`);
  }
  const { name, contactEmail, visibility, description } = parseNewOrganization(body);
  if (body.description === null) return { name, contactEmail, visibility, description: null };
  return { name, contactEmail, visibility, ...(description !== undefined && { description }) };
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
 * rename + INVITATION_EXPIRY_SECONDS, and stays readable (as expired) for
 * INVITATION_RETENTION_SECONDS more, until TTL may delete it. Until then the link must keep
 * opening this organization, and nobody else may take the name.
 */
export function renamedNameReservedUntil(nowMs: number, timings: InvitationTimings): number {
  return Math.floor(nowMs / 1000) + timings.expirySeconds + timings.retentionSeconds;
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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) throw invalidInput(`${field} is required.`);
  if (typeof value !== 'string') throw invalidInput(`${field} must be a string.`);
  return value;
}

function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidInput(`${field} must be a string.`);
  if (value.length > maxLength) throw invalidInput(`${field} must be at most ${maxLength} characters.`);
  return value;
}
