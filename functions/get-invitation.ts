import { apiHandler } from '../shared/http/api-handler.ts';
import { invitationNotFound } from '../shared/domain/access.ts';
import { invitationIdParam, orgNameParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toAdminInvitationView, toInvitationView } from '../shared/http/views.ts';
import { getInvitation } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** GET /v1/organizations/{name}/invitations/{uuid}: the invitee or an org admin. */
export const handler = apiHandler(async ({ caller, path }) => {
  const invitationId = invitationIdParam(path);
  const { invitation, adminOrgName } = await getInvitation(deps, caller, orgNameParam(path, invitationNotFound), invitationId);
  return jsonResponse(
    200,
    adminOrgName === undefined
      ? toInvitationView(invitation)
      : toAdminInvitationView(invitation, { frontendUrl: deps.frontendUrl, orgName: adminOrgName }),
  );
});
