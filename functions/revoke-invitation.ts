import { apiHandler } from '../shared/http/api-handler.ts';
import { invitationIdParam, orgNameParam } from '../shared/http/params.ts';
import { noContentResponse } from '../shared/http/responses.ts';
import { countMetric } from '../shared/observability.ts';
import { revokeInvitation } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** DELETE /v1/organizations/{orgName}/invitations/{invitationId}: org admins revoke a pending invitation. */
export const handler = apiHandler(async ({ caller, path }) => {
  const invitationId = invitationIdParam(path);
  await revokeInvitation(deps, caller, orgNameParam(path), invitationId);
  countMetric('InvitationsRevoked');
  return noContentResponse();
});
