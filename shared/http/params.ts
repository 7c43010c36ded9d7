/**
 * Path and query parameters: each declared once (valibot) and read with the meaning each route
 * gives it (see shared/deployment/routes.ts). test/contract/request-declarations.test.ts checks the
 * declarations against openapi.yaml.
 */
import * as v from 'valibot';
import { organizationNotFound } from '../domain/access.ts';
import type { DomainError } from '../domain/errors.ts';
import { EMAIL_STATUSES, STATUS_FILTERS, type EmailStatus, type InvitationStatusFilter } from '../domain/invitation.ts';
import { isValidEmail, trimEmail } from '../domain/email.ts';
import { organizationName, validate } from './validation.ts';

const MAX_CURSOR_LENGTH = 1024;
export const MAX_PAGE_SIZE = 100;

type Params = Readonly<Record<string, string | undefined>>;

/** `{org}` as an organization name: the domain's name rule. */
export const OrganizationNameParam = organizationName(undefined);

const ORG_ID_MESSAGE = 'The organization id must be an integer.';
/** `{org}` as the integer organization id (resend, partial update): up to 15 digits, no sign. */
export const OrganizationIdParam = v.pipe(
  v.string(ORG_ID_MESSAGE),
  v.regex(/^\d{1,15}$/, ORG_ID_MESSAGE),
  v.transform(Number),
  v.number(),
  v.integer(ORG_ID_MESSAGE),
);

const INVITATION_ID_MESSAGE = 'The invitation id must be a UUID.';
/** `{invitationId}`: a UUID, any case; read lower-cased. */
export const InvitationIdParam = v.pipe(v.string(INVITATION_ID_MESSAGE), v.uuid(INVITATION_ID_MESSAGE), v.toLowerCase());

const USER_ID_MESSAGE = 'The user id must be 1 to 255 characters.';
/** `{userId}`: the identity provider's subject (Keycloak: a UUID; any string here). */
export const UserIdParam = v.pipe(v.string(USER_ID_MESSAGE), v.minLength(1, USER_ID_MESSAGE), v.maxLength(255, USER_ID_MESSAGE));

const EMAIL_FILTER_MESSAGE = 'email must be a valid email address.';
const INVITED_BY_MESSAGE = 'invitedBy must be a user id of 1 to 255 characters.';

const LIMIT_MESSAGE = `limit must be an integer from 1 to ${MAX_PAGE_SIZE}.`;
const CURSOR_MESSAGE = 'cursor is not valid.';

/** `limit` and `cursor` of the paged lists (an opaque cursor from the previous page's X-Next-Cursor). */
const PAGE_PARAMETERS = {
  limit: v.optional(
    v.pipe(
      v.string(LIMIT_MESSAGE),
      v.regex(/^\d+$/, LIMIT_MESSAGE),
      v.transform(Number),
      v.number(),
      v.integer(LIMIT_MESSAGE),
      v.minValue(1, LIMIT_MESSAGE),
      v.maxValue(MAX_PAGE_SIZE, LIMIT_MESSAGE),
    ),
  ),
  cursor: v.optional(v.pipe(v.string(CURSOR_MESSAGE), v.minLength(1, CURSOR_MESSAGE), v.maxLength(MAX_CURSOR_LENGTH, CURSOR_MESSAGE))),
};

/**
 * GET /v1/organizations/{orgName}/invitations. Unknown query parameters are ignored, as most
 * APIs do (clients add cache busters). A cursor needs no limit: a response without one (at most
 * UNPAGED_LIST_MAXIMUM) also gives one.
 */
export const ListInvitationsQuery = v.object({
  status: v.optional(v.picklist(STATUS_FILTERS, `status must be one of ${STATUS_FILTERS.join(', ')}.`)),
  emailStatus: v.optional(v.picklist(EMAIL_STATUSES, `emailStatus must be one of ${EMAIL_STATUSES.join(', ')}.`)),
  // Matched as everywhere else: trimmed, then compared normalized (shared/domain/email.ts).
  email: v.optional(
    v.pipe(
      v.string(EMAIL_FILTER_MESSAGE),
      v.transform(trimEmail),
      v.check(isValidEmail, EMAIL_FILTER_MESSAGE),
    ),
  ),
  invitedBy: v.optional(v.pipe(v.string(INVITED_BY_MESSAGE), v.minLength(1, INVITED_BY_MESSAGE), v.maxLength(255, INVITED_BY_MESSAGE))),
  ...PAGE_PARAMETERS,
});

/** GET /v1/organizations/{orgName}/invitations/{invitationId}/events: the audit trail's pages. */
export const ListInvitationEventsQuery = v.object(PAGE_PARAMETERS);

export function eventsQuery(query: Params): { limit?: number; cursor?: string } {
  return validate(ListInvitationEventsQuery, query);
}

/**
 * GET /v1/user/invitations: a page of the caller's invitations. Without `limit`, a page of
 * MAX_PAGE_SIZE (not the organization list's 1000: a page's organizations are read in one
 * BatchGetItem, at most 100 keys). Unknown query parameters are ignored.
 */
export const MyInvitationsQuery = v.object(PAGE_PARAMETERS);

/**
 * POST /v1/organizations/{orgName}/invitations: `dryRun=true` says what the request would do,
 * per address, and does nothing.
 */
export const CreateInvitationsQuery = v.object({
  dryRun: v.optional(v.picklist(['true', 'false'], 'dryRun must be true or false.')),
});

export function isDryRun(query: Params): boolean {
  return validate(CreateInvitationsQuery, query).dryRun === 'true';
}

export interface ListQuery {
  status?: InvitationStatusFilter;
  emailStatus?: EmailStatus;
  /** A valid address, trimmed; the store compares it normalized. */
  email?: string;
  invitedBy?: string;
  limit?: number;
  cursor?: string;
}

/**
 * `{org}` as an organization name. A name no organization can have is simply not found, with
 * the same 404 the route gives for any unknown organization (`unknown`, from the access rules:
 * invitation routes pass `invitationNotFound`, so nothing can be told apart).
 */
export function orgNameParam(path: Params, unknown: () => DomainError = organizationNotFound): string {
  return validate(OrganizationNameParam, path.org, unknown);
}

export function orgIdParam(path: Params): number {
  return validate(OrganizationIdParam, path.org);
}

export function userIdParam(path: Params): string {
  return validate(UserIdParam, path.userId);
}

export function invitationIdParam(path: Params): string {
  return validate(InvitationIdParam, path.invitationId);
}

export function listQuery(query: Params): ListQuery {
  return validate(ListInvitationsQuery, query);
}

export function myInvitationsQuery(query: Params): { limit: number; cursor?: string } {
  const { limit, cursor } = validate(MyInvitationsQuery, query);
  return { limit: limit ?? MAX_PAGE_SIZE, cursor };
}
