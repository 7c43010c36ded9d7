import { apiHandler } from '../shared/http/api-handler.ts';
import { parseOrganizationUpdate } from '../shared/http/bodies.ts';
import { orgIdParam } from '../shared/http/params.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/responses.ts';
import { toOrganizationView } from '../shared/http/views.ts';
import { updateOrganization } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** PATCH /v1/organizations/{id}/partial: here `{org}` is the integer id. Org admins only; rate-limited per user. */
export const handler = apiHandler(async ({ caller, path, jsonBody }) => {
  const orgId = orgIdParam(path);
  const update = parseOrganizationUpdate(jsonBody());
  const { organization, membership, rateLimit } = await updateOrganization(deps, caller, orgId, update);
  return jsonResponse(200, toOrganizationView(organization, membership, caller), rateLimitHeaders(rateLimit));
});
