import { apiHandler } from '../shared/http/api-handler.ts';
import { orgNameParam, userIdParam } from '../shared/http/params.ts';
import { noContentResponse } from '../shared/http/responses.ts';
import { removeMember } from '../shared/services/members.ts';
import { createMemberDependencies } from '../shared/wiring.ts';

const deps = createMemberDependencies();

/** DELETE /v1/organizations/{orgName}/members/{userId}: an org admin removes a member, or a member leaves. */
export const handler = apiHandler(async ({ caller, path }) => {
  const orgName = orgNameParam(path);
  await removeMember(deps, caller, orgName, userIdParam(path));
  return noContentResponse();
});
