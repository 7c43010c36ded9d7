import { apiHandler } from '../shared/http/api-handler.ts';
import { parseDryRunRequest, parseCreateInvitationsRequest } from '../shared/http/bodies.ts';
import { isDryRun, orgNameParam } from '../shared/http/params.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/responses.ts';
import { toAdminInvitationView } from '../shared/http/views.ts';
import { countMetric } from '../shared/observability.ts';
import { DEFAULT_INVITATION_OPTIONS } from '../shared/domain/invitation.ts';
import { createInvitations, dryRunInvitations } from '../shared/services/invitations.ts';
import { createIdempotentInvitationDependencies } from '../shared/wiring.ts';

const deps = createIdempotentInvitationDependencies();

/** POST /v1/organizations/{orgName}/invitations[?dryRun=true] [Idempotency-Key] */
export const handler = apiHandler(
  async ({ caller, path, query, jsonBody }) => {
    const orgName = orgNameParam(path);
    if (isDryRun(query)) {
      const { entries } = parseDryRunRequest(jsonBody());
      return jsonResponse(200, { results: await dryRunInvitations(deps, caller, orgName, entries) });
    }
    const { emails, options } = parseCreateInvitationsRequest(jsonBody());
    const outcome = await createInvitations(deps, caller, orgName, emails, options);
    countMetric('InvitationsCreated', outcome.invitations.length);
    const site = { frontendUrl: deps.frontendUrl, orgName: outcome.orgName };
    return jsonResponse(
      201,
      { invitations: outcome.invitations.map((invitation) => toAdminInvitationView(invitation, site)), skipped: outcome.skipped },
      rateLimitHeaders(outcome.rateLimit),
    );
  },
  {
    idempotency: {
      store: deps.idempotency,
      clock: deps.clock,
      // A dry run writes nothing: there is nothing to replay, and its key stays free for the real request.
      appliesTo: ({ query }) => !isDryRun(query),
      // The same request: the same organization, addresses (however they were spelled) and options.
      fingerprint: ({ path, jsonBody }) => {
        const { emails, options } = parseCreateInvitationsRequest(jsonBody());
        const defaults = Object.entries(options).every(
          ([name, value]) => DEFAULT_INVITATION_OPTIONS[name as keyof typeof options] === value,
        );
        return {
          orgName: orgNameParam(path),
          emails: emails.map((email) => email.normalized),
          // Only when not the defaults: keys recorded before requests had options keep matching.
          ...(!defaults && { options }),
        };
      },
    },
  },
);
