import type { Caller } from './caller.ts';
import { isValidEmail } from './email.ts';
import { invalidInput } from './errors.ts';

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

export type OrganizationUpdate = Pick<Organization, 'name' | 'contactEmail' | 'visibility' | 'description'>;

const UPDATABLE_FIELDS = new Set(['name', 'contactEmail', 'visibility', 'description']);

/**
 * Validates a partial-update body (the spec's PATCH /v1/organizations/{id}/partial schema, which
 * has additionalProperties: false): name, contactEmail and visibility required, description optional.
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
  return { name, contactEmail, visibility, description };
}

/** Org admin: the creator, an ADMIN member, or a realm admin. */
export function isOrgAdmin(org: Organization, membership: Membership | undefined, caller: Caller): boolean {
  return caller.isRealmAdmin || org.creator.id === caller.userId || membership?.associationType === 'ADMIN';
}

/** PRIVATE organizations are invisible (404) to everyone but members and realm admins. */
export function canSeeOrganization(org: Organization, membership: Membership | undefined, caller: Caller): boolean {
  return org.visibility === 'PUBLIC' || membership !== undefined || isOrgAdmin(org, membership, caller);
}

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
