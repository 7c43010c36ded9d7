import { invitationNotFound } from '../shared/domain/access.ts';
import { apiHandler } from '../shared/http/api-handler.ts';
import { eventsQuery, invitationIdParam, orgNameParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { listInvitationEvents } from '../shared/services/invitation-events.ts';
import { createEventDependencies } from '../shared/wiring.ts';

const deps = createEventDependencies();

/** GET /v1/organizations/{orgName}/invitations/{invitationId}/events[?limit=&cursor=]: org admins. */
export const handler = apiHandler(async ({ caller, path, query }) => {
  const invitationId = invitationIdParam(path);
  const page = await listInvitationEvents(deps, caller, orgNameParam(path, invitationNotFound), invitationId, eventsQuery(query));
  return jsonResponse(200, page.items, page.nextCursor ? { 'X-Next-Cursor': page.nextCursor } : {});
});
