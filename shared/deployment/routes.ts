/**
 * The one route table. The local server routes with it (local/route-match.ts) and the CDK stack
 * (infra/) creates one Lambda function and one API Gateway route per entry from it.
 *
 * API Gateway rejects two routes whose path variables at the same position have different
 * names, while the Jaqpot spec calls the organization segment {orgName}, {name} or {orgId}
 * depending on the route. So every route here uses `{org}` and `{invitationId}`; each handler
 * reads `org` with the meaning its route gives it (a name, or the integer id for resend).
 * Clients see identical wire paths; openapi.yaml keeps the spec's names.
 */
import { DOCS_PATHS } from '../docs/api-reference.ts';
import { tableSchema } from './table-schema.ts';

export interface Route {
  /** Stable id: names the Lambda function, its log group and its metrics. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
  /** API Gateway path template, or `$default` for the catch-all. */
  readonly path: string;
  /** Handler entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /**
   * The DynamoDB access the handler's calls need, no more (least privilege; the CDK stack grants
   * exactly these): actions on the table, and Query on the named indexes it queries. A
   * TransactWriteItems needs the item actions it contains. See the README's "DynamoDB calls per
   * endpoint"; test/infra/permissions.test.ts checks these lists against the calls the code makes.
   */
  readonly dynamodb: readonly DynamoDbGrant[];
}

export type DynamoDbAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

export type IndexName =
  | typeof tableSchema.invitationsByCreatedIndex.name
  | typeof tableSchema.userOrganizationsIndex.name
  | typeof tableSchema.pendingEmailIndex.name
  | typeof tableSchema.inviteeInvitationsIndex.name
  | typeof tableSchema.timerIndex.name;

/** An action on the table itself (`dynamodb:Query` there: a Query of the table), or a Query of one index. */
export type DynamoDbGrant = DynamoDbAction | { readonly queryIndex: IndexName };

const queryIndex = (index: { readonly name: IndexName }): DynamoDbGrant => ({ queryIndex: index.name });

/** The actions a grant list allows on the table itself. */
export function tableActions(grants: readonly DynamoDbGrant[]): DynamoDbAction[] {
  return grants.filter((grant): grant is DynamoDbAction => typeof grant === 'string');
}

/** The indexes a grant list allows to Query. */
export function queriedIndexes(grants: readonly DynamoDbGrant[]): IndexName[] {
  return grants.flatMap((grant) => (typeof grant === 'string' ? [] : [grant.queryIndex]));
}

/** GetItem of the name, then a Query of the organization's partition (organization and members). */
const READ_ORG_BY_NAME: DynamoDbGrant[] = ['dynamodb:GetItem', 'dynamodb:Query'];
/** Query of GSI1 (the caller's memberships), then BatchGetItem of their organizations. */
const LIST_MY_ORGANIZATIONS: DynamoDbGrant[] = [queryIndex(tableSchema.userOrganizationsIndex), 'dynamodb:BatchGetItem'];

/**
 * Every admin write of an ADMIN member (not the creator, not a realm admin) also checks, in its
 * transaction, that their membership is still ADMIN (shared/domain/access.ts AdminAuthority).
 */
const ADMIN_AUTHORITY: DynamoDbGrant = 'dynamodb:ConditionCheckItem';

export const routes: readonly Route[] = [
  {
    id: 'createOrganization',
    method: 'POST',
    path: '/v1/organizations',
    entry: 'functions/create-organization.ts',
    // UpdateItem: the rate-limit window and the id counter.
    dynamodb: ['dynamodb:UpdateItem', 'dynamodb:PutItem'],
  },
  {
    id: 'listOrganizations',
    method: 'GET',
    path: '/v1/organizations',
    entry: 'functions/list-user-organizations.ts',
    dynamodb: LIST_MY_ORGANIZATIONS,
  },
  {
    id: 'listUserOrganizations',
    method: 'GET',
    path: '/v1/user/organizations',
    entry: 'functions/list-user-organizations.ts',
    dynamodb: LIST_MY_ORGANIZATIONS,
  },
  {
    id: 'listMyInvitations',
    method: 'GET',
    path: '/v1/user/invitations',
    entry: 'functions/list-my-invitations.ts',
    // Query of GSI3 (the caller's address), then BatchGetItem of the page's organizations.
    dynamodb: [queryIndex(tableSchema.inviteeInvitationsIndex), 'dynamodb:BatchGetItem'],
  },
  {
    id: 'getOrganization',
    method: 'GET',
    path: '/v1/organizations/{org}',
    entry: 'functions/get-organization.ts',
    dynamodb: READ_ORG_BY_NAME,
  },
  {
    id: 'updateOrganization',
    method: 'PATCH',
    path: '/v1/organizations/{org}/partial',
    entry: 'functions/update-organization.ts',
    // UpdateItem: the rate-limit window, the organization's fields, the old name becoming an alias;
    // PutItem: the new name; ConditionCheckItem: an ADMIN member's membership (ADMIN_AUTHORITY).
    dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', ADMIN_AUTHORITY],
  },
  {
    id: 'createInvitations',
    method: 'POST',
    path: '/v1/organizations/{org}/invitations',
    entry: 'functions/create-invitations.ts',
    // DeleteItem: releasing an Idempotency-Key whose request failed; BatchGetItem: the dry run's
    // pending guards, and the access re-read after an ADMIN member lost their authority.
    dynamodb: [...READ_ORG_BY_NAME, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', ADMIN_AUTHORITY],
  },
  {
    id: 'listInvitations',
    method: 'GET',
    path: '/v1/organizations/{org}/invitations',
    entry: 'functions/list-invitations.ts',
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', queryIndex(tableSchema.invitationsByCreatedIndex)],
  },
  {
    id: 'getInvitation',
    method: 'GET',
    path: '/v1/organizations/{org}/invitations/{invitationId}',
    entry: 'functions/get-invitation.ts',
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  },
  {
    id: 'answerInvitation',
    method: 'PUT',
    path: '/v1/organizations/{org}/invitations/{invitationId}',
    entry: 'functions/answer-invitation.ts',
    // GetItem: the name; BatchGetItem: the invitation with its organization (whose name the
    // events carry); PutItem: the events.
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem'],
  },
  {
    id: 'resendInvitation',
    method: 'POST',
    path: '/v1/organizations/{org}/invitations/{invitationId}/resend',
    entry: 'functions/resend-invitation.ts',
    dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', ADMIN_AUTHORITY],
  },
  {
    id: 'revokeInvitation',
    method: 'DELETE',
    path: '/v1/organizations/{org}/invitations/{invitationId}',
    entry: 'functions/revoke-invitation.ts',
    // GetItem: the name; UpdateItem: the invitation; DeleteItem: its pending guard; PutItem: the event.
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', ADMIN_AUTHORITY],
  },
  {
    id: 'listInvitationEvents',
    method: 'GET',
    path: '/v1/organizations/{org}/invitations/{invitationId}/events',
    entry: 'functions/list-invitation-events.ts',
    // GetItem: the name (and the invitation, when it has no events); BatchGetItem: organization
    // and caller's membership; Query: the invitation's events partition (in the table itself).
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  },
  {
    id: 'removeMember',
    method: 'DELETE',
    path: '/v1/organizations/{org}/members/{userId}',
    entry: 'functions/remove-member.ts',
    // GetItem: the name; BatchGetItem: organization, caller's and target's memberships; PutItem: the event.
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', ADMIN_AUTHORITY],
  },
  {
    id: 'updateMember',
    method: 'PATCH',
    path: '/v1/organizations/{org}/members/{userId}',
    entry: 'functions/update-member.ts',
    dynamodb: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', ADMIN_AUTHORITY],
  },
  // Unknown routes get the service's JSON 404 instead of API Gateway's own body.
  {
    id: 'notFound',
    method: 'ANY',
    path: '$default',
    entry: 'functions/not-found.ts',
    dynamodb: [],
  },
];

/** The Lambda authorizer in front of every route. */
export const authorizerEntry = 'functions/authorizer.ts';

/**
 * The API reference (shared/docs/api-reference.ts): public GET routes, without the authorizer,
 * all served by one function that reads no data. Locally always; on AWS only with the context
 * `publishDocs=true`. Nothing else is public.
 */
export const docsRoutes: readonly Route[] = Object.values(DOCS_PATHS).map((path) => ({
  id: 'apiDocs',
  method: 'GET',
  path,
  entry: 'functions/api-docs.ts',
  dynamodb: [],
}));

/** Functions triggered by events rather than routes (the CDK stack wires their triggers). */
export const eventFunctions = {
  /** DynamoDB stream of the table, filtered by shared/deployment/email-delivery-trigger.ts; sends with SES. */
  deliverInvitationEmails: {
    entry: 'functions/deliver-invitation-emails.ts',
    // BatchGetItem: the invitation with its organization's current name; UpdateItem: the send
    // claim, its release and the outcome; PutItem: the outcome's event.
    dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
    sendsEmail: true,
  },
  /** A schedule; sends with SES. */
  sweepPendingEmails: {
    entry: 'functions/sweep-pending-emails.ts',
    dynamodb: [queryIndex(tableSchema.pendingEmailIndex), 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
    sendsEmail: true,
  },
  /**
   * A schedule (every minute): the invitations' reminders and expiry events. Query: the timer
   * index; UpdateItem + PutItem: one transaction per timer (the invitation, its event).
   */
  fireInvitationTimers: {
    entry: 'functions/fire-invitation-timers.ts',
    dynamodb: [queryIndex(tableSchema.timerIndex), 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
    sendsEmail: false,
  },
  /** SNS topic of the SES configuration set's bounce and complaint events. */
  // BatchGetItem: the invitation with its organization's current name (for the event).
  emailFeedback: { entry: 'functions/email-feedback.ts', dynamodb: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], sendsEmail: false },
} as const satisfies Record<string, { entry: string; dynamodb: readonly DynamoDbGrant[]; sendsEmail: boolean }>;
