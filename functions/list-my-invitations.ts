import { apiHandler } from '../shared/http/api-handler.ts';
import { myInvitationsQuery } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toMyInvitationView } from '../shared/http/views.ts';
import { listMyInvitations } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** GET /v1/user/invitations[?limit=&cursor=]: the caller's live pending invitations, across organizations. */
export const handler = apiHandler(async ({ caller, query }) => {
  const page = await listMyInvitations(deps, caller, myInvitationsQuery(query));
  return jsonResponse(200, page.items.map(toMyInvitationView), page.nextCursor ? { 'X-Next-Cursor': page.nextCursor } : {});
});
