import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse } from '../shared/http/errors.ts';
import { orgNameParam } from '../shared/http/params.ts';
import { getOrganization } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** GET /v1/organizations/{name}: PRIVATE organizations are 404 to non-members. */
export const handler = apiHandler(async ({ caller, path }) => {
  return jsonResponse(200, await getOrganization(deps, caller, orgNameParam(path)));
});
