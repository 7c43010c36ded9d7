/**
 * The one route table. The local server routes with it and the CDK stack (infra/) creates one
 * Lambda function and one API Gateway route per entry from it.
 *
 * API Gateway rejects two routes whose path variables at the same position have different
 * names, while the Jaqpot spec calls the organization segment {orgName}, {name} or {orgId}
 * depending on the route. So every route here uses `{org}` and `{invitationId}`; each handler
 * reads `org` with the meaning its route gives it (a name, or the integer id for resend).
 * Clients see identical wire paths; openapi.yaml keeps the spec's names.
 */
export interface Route {
  /** Stable id: names the Lambda function, its log group and its metrics. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
  /** API Gateway path template, or `$default` for the catch-all. */
  readonly path: string;
  /** Handler entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
}

export const routes: readonly Route[] = [
  { id: 'createOrganization', method: 'POST', path: '/v1/organizations', entry: 'functions/create-organization.ts' },
  { id: 'listOrganizations', method: 'GET', path: '/v1/organizations', entry: 'functions/list-user-organizations.ts' },
  { id: 'listUserOrganizations', method: 'GET', path: '/v1/user/organizations', entry: 'functions/list-user-organizations.ts' },
  { id: 'getOrganization', method: 'GET', path: '/v1/organizations/{org}', entry: 'functions/get-organization.ts' },
  { id: 'updateOrganization', method: 'PATCH', path: '/v1/organizations/{org}/partial', entry: 'functions/update-organization.ts' },
  { id: 'createInvitations', method: 'POST', path: '/v1/organizations/{org}/invitations', entry: 'functions/create-invitations.ts' },
  { id: 'listInvitations', method: 'GET', path: '/v1/organizations/{org}/invitations', entry: 'functions/list-invitations.ts' },
  { id: 'getInvitation', method: 'GET', path: '/v1/organizations/{org}/invitations/{invitationId}', entry: 'functions/get-invitation.ts' },
  { id: 'answerInvitation', method: 'PUT', path: '/v1/organizations/{org}/invitations/{invitationId}', entry: 'functions/answer-invitation.ts' },
  { id: 'resendInvitation', method: 'POST', path: '/v1/organizations/{org}/invitations/{invitationId}/resend', entry: 'functions/resend-invitation.ts' },
  // Unknown routes get the service's JSON 404 instead of API Gateway's own body.
  { id: 'notFound', method: 'ANY', path: '$default', entry: 'functions/not-found.ts' },
];

/** The Lambda authorizer in front of every route. */
export const authorizerEntry = 'functions/authorizer.ts';

export interface RouteMatch {
  readonly route: Route;
  readonly pathParameters: Record<string, string>;
}

/** Matches a concrete path against the table the way API Gateway does: exact segments win, `$default` last. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/');
  for (const route of routes) {
    if (route.path === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = template.every((part, i) => {
      const segment = segments[i]!;
      const variable = /^\{(\w+)\}$/.exec(part);
      if (!variable) return part === segment;
      if (segment === '') return false;
      pathParameters[variable[1]!] = decodePathSegment(segment);
      return true;
    });
    if (matches) return { route, pathParameters };
  }
  const fallback = routes.find((r) => r.path === '$default');
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // API Gateway passes undecodable segments through as they are.
  }
}
