import { apiHandler } from '../shared/http/api-handler.ts';
import { orgNameParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toOrganizationView } from '../shared/http/views.ts';
import { getOrganization } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** GET /v1/organizations/{name}: PRIVATE organizations are 404 to non-members. */
export const handler = apiHandler(async ({ caller, path }) => {
  const { organization, membership, members } = await getOrganization(deps, caller, orgNameParam(path));
  return jsonResponse(200, toOrganizationView(organization, membership, caller, members));
});
