/** Path and query parameters, read with the meaning each route gives them (see shared/deployment/routes.ts). */
import { invalidInput, notFound } from '../domain/errors.ts';
import { EMAIL_STATUSES, STATUS_FILTERS, type EmailStatus, type InvitationStatusFilter } from '../domain/invitation.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ORG_NAME = /^[\w-]{3,200}$/;
const MAX_CURSOR_LENGTH = 1024;
export const MAX_PAGE_SIZE = 100;

type Params = Readonly<Record<string, string | undefined>>;

/**
 * `{org}` as an organization name. A name no organization can have is simply not found, with
 * the same 404 the route gives for any unknown organization (invitation routes say "Invitation
 * not found." for both, so nothing can be told apart).
 */
export function orgNameParam(path: Params, notFoundMessage = 'Organization not found.'): string {
  const name = path.org ?? '';
  if (!ORG_NAME.test(name)) throw notFound(notFoundMessage);
  return name;
}

/** `{org}` as the integer organization id (the resend route). */
export function orgIdParam(path: Params): number {
  const text = path.org ?? '';
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(id)) {
    throw invalidInput('The organization id must be an integer.');
  }
  return id;
}

/** `{invitationId}`: a UUID. */
export function invitationIdParam(path: Params): string {
  const id = path.invitationId ?? '';
  if (!UUID.test(id)) throw invalidInput('The invitation id must be a UUID.');
  return id.toLowerCase();
}

/** Unknown query parameters are ignored, as most APIs do (clients add cache busters). */
export interface ListQuery {
  status?: InvitationStatusFilter;
  emailStatus?: EmailStatus;
  limit?: number;
  cursor?: string;
}

export function listQuery(query: Params): ListQuery {
  const result: ListQuery = {};
  if (query.status !== undefined) {
    if (!STATUS_FILTERS.includes(query.status as InvitationStatusFilter)) {
      throw invalidInput(`status must be one of ${STATUS_FILTERS.join(', ')}.`);
    }
    result.status = query.status as InvitationStatusFilter;
  }
  if (query.emailStatus !== undefined) {
    if (!EMAIL_STATUSES.includes(query.emailStatus as EmailStatus)) {
      throw invalidInput(`emailStatus must be one of ${EMAIL_STATUSES.join(', ')}.`);
    }
    result.emailStatus = query.emailStatus as EmailStatus;
  }
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw invalidInput(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
    }
    result.limit = limit;
  }
  // A cursor needs no limit: a response without one (at most UNPAGED_LIST_MAXIMUM) also gives one.
  if (query.cursor !== undefined) {
    if (query.cursor.length === 0 || query.cursor.length > MAX_CURSOR_LENGTH) throw invalidInput('cursor is not valid.');
    result.cursor = query.cursor;
  }
  return result;
}
