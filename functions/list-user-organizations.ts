import { apiHandler } from '../shared/http/api-handler.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toOrganizationView } from '../shared/http/views.ts';
import { listUserOrganizations } from '../shared/services/organizations.ts';
import { createOrganizationDependencies } from '../shared/wiring.ts';

const deps = createOrganizationDependencies();

/** GET /v1/user/organizations and GET /v1/organizations: the organizations the caller created or belongs to. */
export const handler = apiHandler(async ({ caller }) => {
  const found = await listUserOrganizations(deps, caller);
  return jsonResponse(200, found.map(({ organization, membership }) => toOrganizationView(organization, membership, caller)));
});
