import { parseOrganizationUpdate } from '../shared/domain/organization.ts';
import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse, rateLimitHeaders } from '../shared/http/errors.ts';
import { orgIdParam } from '../shared/http/params.ts';
import { updateOrganization } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** PATCH /v1/organizations/{id}/partial: here `{org}` is the integer id. Org admins only; rate-limited per user. */
export const handler = apiHandler(async ({ caller, path, jsonBody }) => {
  const orgId = orgIdParam(path);
  const update = parseOrganizationUpdate(jsonBody());
  const { view, rateLimit } = await updateOrganization(deps, caller, orgId, update);
  return jsonResponse(200, view, rateLimitHeaders(rateLimit));
});
