import { parseInvitationRequest, toInvitationView } from '../shared/domain/invitation.ts';
import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/errors.ts';
import { idempotent } from '../shared/http/idempotency.ts';
import { orgNameParam } from '../shared/http/params.ts';
import { countMetric } from '../shared/observability.ts';
import { createInvitations } from '../shared/services/invitations.ts';
import { createIdempotentInvitationDependencies } from '../shared/wiring.ts';

const deps = createIdempotentInvitationDependencies();

/** POST /v1/organizations/{orgName}/invitations [Idempotency-Key] */
export const handler = apiHandler(async ({ caller, path, headers, jsonBody }) => {
  const orgName = orgNameParam(path);
  const emails = parseInvitationRequest(jsonBody());
  const request = {
    caller,
    key: headers['idempotency-key'],
    content: { orgName, emails: emails.map((email) => email.normalized) },
    nowMs: deps.clock.nowMs(),
  };
  return idempotent(deps.idempotency, request, async () => {
    const outcome = await createInvitations(deps, caller, orgName, emails);
    countMetric('InvitationsCreated', outcome.invitations.length);
    return jsonResponse(
      201,
      { invitations: outcome.invitations.map(toInvitationView), skipped: outcome.skipped },
      rateLimitHeaders(outcome.rateLimit),
    );
  });
});
