import { apiHandler } from '../shared/http/api-handler.ts';
import { invitationIdParam, orgIdParam } from '../shared/http/params.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/responses.ts';
import { toAdminInvitationView } from '../shared/http/views.ts';
import { countMetric } from '../shared/observability.ts';
import { resendInvitation } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** POST /v1/organizations/{orgId}/invitations/{id}/resend: here `{org}` is the integer id. */
export const handler = apiHandler(async ({ caller, path }) => {
  const orgId = orgIdParam(path);
  const invitationId = invitationIdParam(path);
  const outcome = await resendInvitation(deps, caller, orgId, invitationId);
  countMetric('InvitationsResent');
  return jsonResponse(200, toAdminInvitationView(outcome.invitation, { frontendUrl: deps.frontendUrl, orgName: outcome.orgName }), rateLimitHeaders(outcome.rateLimit));
});
