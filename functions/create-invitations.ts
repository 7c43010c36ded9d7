import { parseInvitationRequest, toInvitationView } from '../shared/domain/invitation.ts';
import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/errors.ts';
import { orgNameParam } from '../shared/http/params.ts';
import { countMetric } from '../shared/observability.ts';
import { createInvitations } from '../shared/services/invitations.ts';
import { createApiDependencies } from '../shared/wiring.ts';

const deps = createApiDependencies();

/** POST /v1/organizations/{orgName}/invitations */
export const handler = apiHandler(async ({ caller, path, jsonBody }) => {
  const emails = parseInvitationRequest(jsonBody());
  const outcome = await createInvitations(deps, caller, orgNameParam(path), emails);
  countMetric('InvitationsCreated', outcome.invitations.length);
  return jsonResponse(
    201,
    { invitations: outcome.invitations.map(toInvitationView), skipped: outcome.skipped },
    rateLimitHeaders(outcome.rateLimit),
  );
});
