import { apiHandler } from '../shared/http/api-handler.ts';
import { listQuery, orgNameParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toAdminInvitationView } from '../shared/http/views.ts';
import { listInvitations } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** GET /v1/organizations/{orgName}/invitations[?status=&limit=&cursor=] */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const orgName = orgNameParam(path);
  const page = await listInvitations(deps, caller, orgName, listQuery(query));
  return jsonResponse(
    200,
    page.items.map((invitation) => toAdminInvitationView(invitation, { frontendUrl: deps.frontendUrl, orgName: page.orgName })),
    page.nextCursor ? { 'X-Next-Cursor': page.nextCursor } : {},
  );
});
