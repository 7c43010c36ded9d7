import { apiHandler } from '../shared/http/api-handler.ts';
import { parseMemberUpdate } from '../shared/http/bodies.ts';
import { orgNameParam, userIdParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toMemberView } from '../shared/http/views.ts';
import { changeMemberRole } from '../shared/services/members.ts';
import { createMemberDependencies } from '../shared/wiring.ts';

const deps = createMemberDependencies();

/** PATCH /v1/organizations/{orgName}/members/{userId} `{"associationType"}`: org admins change a member's role. */
export const handler = apiHandler(async ({ caller, path, jsonBody }) => {
  const orgName = orgNameParam(path);
  const userId = userIdParam(path);
  const associationType = parseMemberUpdate(jsonBody());
  return jsonResponse(200, toMemberView(await changeMemberRole(deps, caller, orgName, userId, associationType)));
});
