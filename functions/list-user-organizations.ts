import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse } from '../shared/http/errors.ts';
import { listUserOrganizations } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** GET /v1/user/organizations and GET /v1/organizations: the organizations the caller created or belongs to. */
export const handler = apiHandler(async ({ caller }) => {
  return jsonResponse(200, await listUserOrganizations(deps, caller));
});
