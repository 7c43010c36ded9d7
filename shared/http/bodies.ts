/**
 * Request bodies: each route's body declared once (valibot), its messages naming the field, and
 * the function its handler calls. The declarations check shape; meaning stays in the domain
 * (email validity and normalization, lookalikes, duplicates, the organization-name rule), whose
 * rules they call. test/contract/request-declarations.test.ts checks them against openapi.yaml.
 */
import * as v from 'valibot';
import { isValidEmail, trimEmail } from '../domain/email.ts';
import {
  DEFAULT_INVITATION_OPTIONS,
  INVITATION_LIFETIME,
  INVITATION_ROLES,
  INVITATION_STATUSES,
  MAX_EMAILS_PER_REQUEST,
  uniqueEmails,
  type DryRunEntry,
  type InvitationOptions,
  type InvitationStatus,
  type ParsedEmail,
} from '../domain/invitation.ts';
import {
  ASSOCIATION_TYPES,
  ORGANIZATION_NAME,
  ORGANIZATION_TEXT_LIMITS,
  type AssociationType,
  ORGANIZATION_VISIBILITIES,
  type NewOrganizationInput,
  type OrganizationUpdate,
} from '../domain/organization.ts';
import { organizationName, validate } from './validation.ts';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON object body with these fields, others ignored. (valibot's object schemas also take
 * arrays, which no body is.) A missing required field gets `missing(field)`.
 */
function jsonObject<const TEntries extends v.ObjectEntries>(
  entries: TEntries,
  messages: { readonly notAnObject: string; readonly missing: (field: string) => string },
) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, messages.notAnObject),
    v.looseObject(entries, (issue) => messages.missing(String(issue.path?.[0]?.key))),
  );
}

/** A string field that must be present: `null` counts as missing. */
const requiredString = (field: string) => v.string(requiredStringMessage(field));

function requiredStringMessage(field: string) {
  return (issue: v.StringIssue) => (issue.input === null ? `${field} is required.` : `${field} must be a string.`);
}

const optionalText = (field: string, maxLength: number) =>
  v.nullish(v.pipe(v.string(`${field} must be a string.`), v.maxLength(maxLength, `${field} must be at most ${maxLength} characters.`)));

// Organizations ---------------------------------------------------------------------------------

const { description: DESCRIPTION, other: OTHER_TEXT } = ORGANIZATION_TEXT_LIMITS;

const organizationFields = {
  name: organizationName(
    requiredStringMessage('name'),
    `name must be ${ORGANIZATION_NAME.minLength} to ${ORGANIZATION_NAME.maxLength} characters of letters, digits, "_" or "-".`,
  ),
  contactEmail: v.pipe(requiredString('contactEmail'), v.check(isValidEmail, 'contactEmail is not a valid email address.')),
  visibility: v.pipe(requiredString('visibility'), v.picklist(ORGANIZATION_VISIBILITIES, 'visibility must be PUBLIC or PRIVATE.')),
  // Absent or null on create: none. On update: absent keeps the stored one, null clears it.
  description: v.nullish(
    v.pipe(
      v.string('description must be a string.'),
      v.maxLength(DESCRIPTION.maxLength, `description must be at most ${DESCRIPTION.maxLength} characters.`),
      v.minLength(DESCRIPTION.minLength, `description must be at least ${DESCRIPTION.minLength} characters.`),
    ),
  ),
};

/**
 * POST /v1/organizations: the spec's Organization. Read-only fields a client may echo back
 * (creator, organizationMembers, canEdit, ...) are ignored; an `id` is refused because ids are
 * allocated by the service.
 */
export const CreateOrganizationBody = jsonObject(
  {
    id: v.optional(v.never('The organization id is assigned by the service; do not send one.')),
    ...organizationFields,
    contactPhone: optionalText('contactPhone', OTHER_TEXT.maxLength),
    website: optionalText('website', OTHER_TEXT.maxLength),
    address: optionalText('address', OTHER_TEXT.maxLength),
  },
  { notAnObject: 'The request body must be a JSON object.', missing: (field) => `${field} is required.` },
);

/**
 * PATCH /v1/organizations/{id}/partial (additionalProperties: false in the spec): name,
 * contactEmail and visibility required, description optional. Unknown fields are refused before
 * anything else, naming a few, shortened: the message must not echo an arbitrarily large body.
 */
export const UpdateOrganizationBody = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'The request body must be a JSON object.'),
  v.check(
    (body) => unknownFields(body).length === 0,
    (issue) => {
      const unknown = unknownFields(issue.input as Record<string, unknown>);
      const named = unknown.slice(0, 3).map((field) => (field.length > 40 ? `${field.slice(0, 39)}…` : field));
      const more = unknown.length > named.length ? ` and ${unknown.length - named.length} more` : '';
      return `Only name, contactEmail, visibility and description can be updated; got ${named.join(', ')}${more}.`;
    },
  ),
  v.strictObject(organizationFields, (issue) => `${String(issue.path?.[0]?.key)} is required.`),
);

function unknownFields(body: Record<string, unknown>): string[] {
  return Object.keys(body).filter((field) => !Object.hasOwn(organizationFields, field));
}

export function parseNewOrganization(body: unknown): NewOrganizationInput {
  const input = validate(CreateOrganizationBody, body);
  return {
    name: input.name,
    contactEmail: input.contactEmail,
    visibility: input.visibility,
    description: input.description ?? undefined,
    contactPhone: input.contactPhone ?? undefined,
    website: input.website ?? undefined,
    address: input.address ?? undefined,
  };
}

/** An omitted description keeps its value (as the Jaqpot server does); `null` clears it. */
export function parseOrganizationUpdate(body: unknown): OrganizationUpdate {
  const { name, contactEmail, visibility, description } = validate(UpdateOrganizationBody, body);
  return { name, contactEmail, visibility, ...(description !== undefined && { description }) };
}

// Members -------------------------------------------------------------------------------------

const ASSOCIATION_TYPE_MESSAGE = `"associationType" must be one of ${ASSOCIATION_TYPES.join(', ')}.`;

/** PATCH /v1/organizations/{orgName}/members/{userId}: the new role; other fields are ignored. */
export const UpdateMemberBody = jsonObject(
  { associationType: v.picklist(ASSOCIATION_TYPES, ASSOCIATION_TYPE_MESSAGE) },
  { notAnObject: 'The request body must be a JSON object with an "associationType".', missing: () => ASSOCIATION_TYPE_MESSAGE },
);

export function parseMemberUpdate(body: unknown): AssociationType {
  return validate(UpdateMemberBody, body).associationType;
}

// Invitations ---------------------------------------------------------------------------------

const EMAILS_MESSAGE = `"emails" must be an array of 1 to ${MAX_EMAILS_PER_REQUEST} email addresses.`;

/** An entry of `emails`: surrounding spaces and tabs forgiven, then a valid address. */
const invitedEmail = v.pipe(
  v.string('must be a string.'),
  v.transform(trimEmail),
  v.check(isValidEmail, 'is not a valid email address.'),
);

/** A dry run's entry: a string (trimmed); an invalid address is reported, not refused. */
const dryRunEmail = v.pipe(v.string('must be a string.'), v.transform(trimEmail));

const ROLE_MESSAGE = `associationType must be one of ${INVITATION_ROLES.join(', ')}.`;
const LIFETIME_MESSAGE =
  `expiresInSeconds must be an integer from ${INVITATION_LIFETIME.minSeconds} to ${INVITATION_LIFETIME.maxSeconds}.`;

/**
 * POST /v1/organizations/{orgName}/invitations: 1 to 10 addresses, and what every invitation of
 * the request gets: a role, a lifetime, whether it is emailed. Other fields are ignored.
 */
function invitationsBody<TEntry extends v.GenericSchema<unknown, string>>(entry: TEntry) {
  return jsonObject(
    {
      emails: v.pipe(
        v.array(v.unknown(), EMAILS_MESSAGE),
        v.minLength(1, '"emails" must contain at least one address.'),
        v.maxLength(MAX_EMAILS_PER_REQUEST, `"emails" may contain at most ${MAX_EMAILS_PER_REQUEST} addresses.`),
        // The entries once the count is right: an oversized list is refused for its size.
        v.array(entry),
      ),
      associationType: v.optional(v.picklist(INVITATION_ROLES, ROLE_MESSAGE)),
      expiresInSeconds: v.optional(
        v.pipe(
          v.number(LIFETIME_MESSAGE),
          v.integer(LIFETIME_MESSAGE),
          v.minValue(INVITATION_LIFETIME.minSeconds, LIFETIME_MESSAGE),
          v.maxValue(INVITATION_LIFETIME.maxSeconds, LIFETIME_MESSAGE),
        ),
      ),
      sendEmail: v.optional(v.boolean('sendEmail must be true or false.')),
    },
    { notAnObject: 'The request body must be a JSON object with an "emails" array.', missing: () => EMAILS_MESSAGE },
  );
}

export const CreateInvitationsBody = invitationsBody(invitedEmail);
/** The same request for `?dryRun=true`: the same shape, but each address is judged, not required valid. */
export const DryRunInvitationsBody = invitationsBody(dryRunEmail);

export interface InvitationRequest {
  /** Trimmed, duplicates (case-insensitive) collapsed to the first spelling. */
  readonly emails: ParsedEmail[];
  readonly options: InvitationOptions;
}

/** The addresses to invite, and the options every invitation gets (defaults filled in). */
export function parseCreateInvitationsRequest(body: unknown): InvitationRequest {
  const input = validate(CreateInvitationsBody, body);
  return { emails: uniqueEmails(input.emails), options: invitationOptions(input) };
}

/** Just the addresses of a create request. */
export function parseInvitationRequest(body: unknown): ParsedEmail[] {
  return parseCreateInvitationsRequest(body).emails;
}

/**
 * A dry run's request: the same shape (a bad shape or option is still 400), each address either
 * valid (collapsed as create collapses duplicates: later spellings of one address are dropped)
 * or invalid with its reason, in request order.
 */
export function parseDryRunRequest(body: unknown): { entries: DryRunEntry[]; options: InvitationOptions } {
  const input = validate(DryRunInvitationsBody, body);
  const seen = new Set<string>();
  const entries = input.emails.flatMap((address): DryRunEntry[] => {
    if (!isValidEmail(address)) return [{ invalid: address, reason: 'Not a valid email address.' }];
    const [email] = uniqueEmails([address]);
    if (seen.has(email!.normalized)) return [];
    seen.add(email!.normalized);
    return [{ valid: email! }];
  });
  return { entries, options: invitationOptions(input) };
}

function invitationOptions(input: {
  associationType?: InvitationOptions['associationType'];
  expiresInSeconds?: number;
  sendEmail?: boolean;
}): InvitationOptions {
  return {
    associationType: input.associationType ?? DEFAULT_INVITATION_OPTIONS.associationType,
    expiresInSeconds: input.expiresInSeconds ?? DEFAULT_INVITATION_OPTIONS.expiresInSeconds,
    sendEmail: input.sendEmail ?? DEFAULT_INVITATION_OPTIONS.sendEmail,
  };
}

const STATUS_MESSAGE = `"status" must be one of ${INVITATION_STATUSES.join(', ')}.`;

/**
 * PUT /v1/organizations/{name}/invitations/{uuid}: only `status` counts; everything else (the
 * generated client sends the whole invitation) is ignored.
 */
export const AnswerInvitationBody = jsonObject(
  { status: v.picklist(INVITATION_STATUSES, STATUS_MESSAGE) },
  { notAnObject: 'The request body must be a JSON object with a "status".', missing: () => STATUS_MESSAGE },
);

export function parseAnswer(body: unknown): InvitationStatus {
  return validate(AnswerInvitationBody, body).status;
}
