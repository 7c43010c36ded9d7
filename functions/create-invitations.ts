import { apiHandler } from '../shared/http/api-handler.ts';
import { parseInvitationRequest } from '../shared/http/bodies.ts';
import { orgNameParam } from '../shared/http/params.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/responses.ts';
import { toInvitationView } from '../shared/http/views.ts';
import { countMetric } from '../shared/observability.ts';
import { createInvitations } from '../shared/services/invitations.ts';
import { createIdempotentInvitationDependencies } from '../shared/wiring.ts';

const deps = createIdempotentInvitationDependencies();

/** POST /v1/organizations/{orgName}/invitations [Idempotency-Key] */
export const handler = apiHandler(
  async ({ caller, path, jsonBody }) => {
    const orgName = orgNameParam(path);
    const emails = parseInvitationRequest(jsonBody());
    const outcome = await createInvitations(deps, caller, orgName, emails);
    countMetric('InvitationsCreated', outcome.invitations.length);
    return jsonResponse(
      201,
      { invitations: outcome.invitations.map(toInvitationView), skipped: outcome.skipped },
      rateLimitHeaders(outcome.rateLimit),
    );
  },
  {
    idempotency: {
      store: deps.idempotency,
      clock: deps.clock,
      // The same request: the same organization and addresses, however they were spelled.
      fingerprint: ({ path, jsonBody }) => ({
        orgName: orgNameParam(path),
        emails: parseInvitationRequest(jsonBody()).map((email) => email.normalized),
      }),
    },
  },
);
