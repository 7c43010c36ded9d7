import { apiHandler } from '../shared/http/api-handler.ts';
import { parseAnswer } from '../shared/http/bodies.ts';
import { invitationNotFound } from '../shared/domain/access.ts';
import { invitationIdParam, orgNameParam } from '../shared/http/params.ts';
import { jsonResponse } from '../shared/http/responses.ts';
import { toInvitationView } from '../shared/http/views.ts';
import { countMetric } from '../shared/observability.ts';
import { answerInvitation } from '../shared/services/invitations.ts';
import { createInvitationDependencies } from '../shared/wiring.ts';

const deps = createInvitationDependencies();

/** PUT /v1/organizations/{name}/invitations/{uuid}: the invitee accepts or rejects. Only `status` is read. */
export const handler = apiHandler(async ({ caller, path, jsonBody }) => {
  const invitationId = invitationIdParam(path);
  const status = parseAnswer(jsonBody());
  const invitation = await answerInvitation(deps, caller, orgNameParam(path, invitationNotFound), invitationId, status);
  if (status === 'ACCEPTED') countMetric('InvitationsAccepted');
  if (status === 'REJECTED') countMetric('InvitationsRejected');
  return jsonResponse(200, toInvitationView(invitation));
});
