import { apiHandler } from '../shared/http/api-handler.ts';
import { parseNewOrganization } from '../shared/http/bodies.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/responses.ts';
import { toOrganizationView } from '../shared/http/views.ts';
import { createOrganization } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** POST /v1/organizations: the caller becomes creator and ADMIN member. Rate-limited per user. */
export const handler = apiHandler(async ({ caller, jsonBody }) => {
  const input = parseNewOrganization(jsonBody());
  const { organization, rateLimit } = await createOrganization(deps, caller, input);
  const membership = { orgId: organization.id, userId: caller.userId, associationType: 'ADMIN' as const };
  return jsonResponse(201, toOrganizationView(organization, membership, caller), {
    Location: `/v1/organizations/${encodeURIComponent(organization.name)}`,
    ...rateLimitHeaders(rateLimit),
  });
});
