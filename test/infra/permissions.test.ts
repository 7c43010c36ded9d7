/**
 * Least privilege, checked against the code rather than kept by hand: every route (its success
 * and main refusal paths) and every event function runs for real against DynamoDB Local, an SDK
 * middleware (bench/dynamodb-meter.ts) records each DynamoDB call with the table or index it
 * touches, and each call must be allowed by what the synthesized template grants that
 * function's role. Local runs enforce no IAM, so without this a missing grant would only show on
 * AWS, as a 500.
 *
 * Also the other direction: every DynamoDB permission a role has is needed by some driven path.
 * A negative control removes one action from a route's grant list and shows the check fails.
 */
import type { DynamoDBStreamEvent, SNSEvent } from 'aws-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDynamoDbMeter, observeDynamoDbCommands } from '../../bench/dynamodb-meter.ts';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { matchRoute } from '../../local/route-match.ts';
import { eventFunctions, routes } from '../../shared/deployment/routes.ts';
import { TIMER_WORKERS } from '../../shared/domain/sharding.ts';
import { sesBounceEvent, sleep, snsEvent, streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { paths } from '../support/fixtures.ts';
import { ApiClient, uniqueOrgName, useTestStack } from '../support/stack.ts';
import { beforeFirstWriteTo } from '../support/interleave.ts';
import { expireInvitation } from '../support/table.ts';
import { logicalId, synth, type Synthesized } from './helpers.ts';
import { comparePermissions, grantedPermissions, requiredPermissions } from './permissions.ts';

installDynamoDbMeter();

/** Per function id: each permission its calls needed, with one call that needed it. */
const needed = new Map<string, Map<string, string>>();
let currentFunction: string | undefined;
observeDynamoDbCommands((commandName, input) => {
  if (!currentFunction) return; // the test's own table access
  const calls = needed.get(currentFunction) ?? new Map<string, string>();
  for (const permission of requiredPermissions(commandName, input)) if (!calls.has(permission)) calls.set(permission, commandName);
  needed.set(currentFunction, calls);
});

const { stack, user } = useTestStack({
  RATE_LIMIT_CREATE: '2/600',
  RATE_LIMIT_RESEND: '2/600',
  EMAIL_SWEEP_AGE_SECONDS: '1',
});

// Every API request is attributed to the route the gateway will match (requests run one at a time).
const originalRequest = ApiClient.prototype.request;
beforeAll(() => {
  ApiClient.prototype.request = async function (this: ApiClient, method, path, options) {
    currentFunction = matchRoute(method.toUpperCase(), new URL(path, 'http://x').pathname)!.route.id;
    try {
      return await originalRequest.call(this, method, path, options);
    } finally {
      currentFunction = undefined;
    }
  } as typeof originalRequest;
});
afterAll(() => {
  ApiClient.prototype.request = originalRequest;
  observeDynamoDbCommands(undefined);
});

async function asFunction<T>(fnId: string, run: () => Promise<T>): Promise<T> {
  currentFunction = fnId;
  try {
    return await run();
  } finally {
    currentFunction = undefined;
  }
}

const ALL_FUNCTION_IDS = [...routes.map((route) => route.id), ...Object.keys(eventFunctions)];

/** Expects the status (or one of the statuses: what matters here is which calls the path makes). */
async function expectStatus(promise: Promise<{ status: number; text: string }>, status: number | number[]) {
  const response = await promise;
  expect([status].flat(), `${response.status} ${response.text}`).toContain(response.status);
  return response as Awaited<typeof promise> & { body: any; headers: Headers };
}

const orgBody = (name: string) => ({ name, contactEmail: 'contact@example.com', visibility: 'PRIVATE' });

/** Drives every route and event function through its success and main refusal paths. */
async function driveEverything() {
  const api = stack.api;
  const admin = user('admin');
  const stranger = user('stranger');
  const invitee = user('invitee');
  const other = user('other');

  // createOrganization: 201, 409 (name taken), 400
  const name = uniqueOrgName();
  const org = (await expectStatus(api.post(paths.organizations, { token: admin.token, body: orgBody(name) }), 201)).body;
  await expectStatus(api.post(paths.organizations, { token: stranger.token, body: orgBody(name) }), 409);
  await expectStatus(api.post(paths.organizations, { token: admin.token, body: { name: '' } }), 400);
  const taken = uniqueOrgName();
  await expectStatus(api.post(paths.organizations, { token: stranger.token, body: orgBody(taken) }), 201);

  // getOrganization: 200, 404 (private to a stranger, unknown)
  await expectStatus(api.get(paths.organization(name), { token: admin.token }), 200);
  await expectStatus(api.get(paths.organization(name), { token: stranger.token }), 404);
  await expectStatus(api.get(paths.organization(uniqueOrgName()), { token: admin.token }), 404);

  // updateOrganization: 200 (same name, rename), 409 (taken), 400, 401/404
  const patch = (orgId: number | string, token: string, body: unknown) =>
    api.request('PATCH', `/v1/organizations/${orgId}/partial`, { token, body });
  await expectStatus(patch(org.id, admin.token, { ...orgBody(name), description: 'same name' }), 200);
  const renamed = uniqueOrgName();
  await expectStatus(patch(org.id, admin.token, orgBody(renamed)), 200);
  await expectStatus(patch(org.id, admin.token, orgBody(taken)), 409);
  await expectStatus(patch(org.id, admin.token, { name: 42 }), 400);
  await expectStatus(patch(org.id, stranger.token, orgBody(renamed)), 404);
  await expectStatus(patch(999_999, admin.token, orgBody(uniqueOrgName())), 404);

  // listOrganizations, listUserOrganizations: with and without memberships
  for (const path of ['/v1/organizations', '/v1/user/organizations']) {
    await expectStatus(api.get(path, { token: admin.token }), 200);
    await expectStatus(api.get(path, { token: user('nobody').token }), 200);
  }

  // createInvitations: 201, with Idempotency-Key (201, replay, 422, refused → key released), 400, 404, 429
  const invitations = paths.invitations(renamed);
  const created = (await expectStatus(api.post(invitations, { token: admin.token, body: { emails: [invitee.email, other.email] } }), 201)).body;
  const key = { 'Idempotency-Key': `k-${Date.now()}` };
  await expectStatus(api.post(invitations, { token: admin.token, body: { emails: [uniqueAddress()] }, headers: key }), 201);
  await expectStatus(api.post(invitations, { token: admin.token, body: { emails: [uniqueAddress()] }, headers: key }), 422);
  await expectStatus(api.post(invitations, { token: stranger.token, body: { emails: [uniqueAddress()] }, headers: key }), 404);
  await expectStatus(api.post(invitations, { token: admin.token, body: { emails: [] } }), 400);
  await expectStatus(api.post(paths.invitations(uniqueOrgName()), { token: admin.token, body: { emails: [uniqueAddress()] } }), 404);
  await expectStatus(api.post(invitations, { token: admin.token, body: { emails: [uniqueAddress()] } }), 429);
  const member = created.invitations.find((i: any) => i.userEmail === invitee.email);

  // listInvitations: 200 (filters, paging), 400, 401/404
  await expectStatus(api.get(invitations, { token: admin.token }), 200);
  await expectStatus(api.get(`${invitations}?status=PENDING&limit=1`, { token: admin.token }), 200);
  await expectStatus(api.get(`${invitations}?emailStatus=FAILED`, { token: admin.token }), 200);
  await expectStatus(api.get(`${invitations}?limit=0`, { token: admin.token }), 400);
  await expectStatus(api.get(invitations, { token: stranger.token }), 404);

  // listMyInvitations: 200 (the invitee's pending invitations, a cursor page, nobody's), 400 (unverified, bad cursor)
  await expectStatus(api.get('/v1/user/invitations', { token: invitee.token }), 200);
  await expectStatus(api.get('/v1/user/invitations?limit=1', { token: other.token }), 200);
  await expectStatus(api.get('/v1/user/invitations', { token: user('nobody').token }), 200);
  await expectStatus(api.get('/v1/user/invitations', { token: user('unverified', { emailVerified: false }).token }), 400);
  await expectStatus(api.get('/v1/user/invitations?cursor=forged', { token: invitee.token }), 400);

  // getInvitation: 200 (invitee, admin), 400 (unverified), 404
  const invitation = paths.invitation(renamed, member.id);
  await expectStatus(api.get(invitation, { token: invitee.token }), 200);
  await expectStatus(api.get(invitation, { token: admin.token }), 200);
  const unverified = user('unverified', { sub: invitee.sub, email: invitee.email, emailVerified: false } as never);
  expect([400, 404]).toContain((await api.get(invitation, { token: unverified.token })).status);
  await expectStatus(api.get(invitation, { token: stranger.token }), 404);

  // answerInvitation: 200 (accept, reject, PENDING no-op), 400 (already answered), 404
  await expectStatus(api.put(invitation, { token: invitee.token, body: { status: 'PENDING' } }), 200);
  await expectStatus(api.put(invitation, { token: invitee.token, body: { status: 'ACCEPTED' } }), 200);
  await expectStatus(api.put(invitation, { token: invitee.token, body: { status: 'REJECTED' } }), 400);
  await expectStatus(api.put(invitation, { token: stranger.token, body: { status: 'ACCEPTED' } }), 404);
  const toReject = created.invitations.find((i: any) => i.userEmail === other.email);
  await expectStatus(api.put(paths.invitation(renamed, toReject.id), { token: other.token, body: { status: 'REJECTED' } }), 200);
  // Now a plain MEMBER: admin routes answer 401.
  await expectStatus(api.get(invitations, { token: invitee.token }), 401);
  await expectStatus(api.post(invitations, { token: invitee.token, body: { emails: [uniqueAddress()] } }), 401);

  // resendInvitation: 200, 400 (answered), 401, 404, 410 (expired), 429
  const resender = user('resender');
  const resendOrgName = uniqueOrgName();
  const resendOrg = (await expectStatus(api.post(paths.organizations, { token: resender.token, body: orgBody(resendOrgName) }), 201)).body;
  const pending = (
    await expectStatus(
      api.post(paths.invitations(resendOrgName), { token: resender.token, body: { emails: [uniqueAddress(), uniqueAddress()] } }),
      201,
    )
  ).body.invitations;
  await expectStatus(api.post(paths.resend(resendOrg.id, pending[0].id), { token: resender.token }), 200);
  await expectStatus(api.post(paths.resend(org.id, member.id), { token: admin.token }), 400);
  await expectStatus(api.post(paths.resend(resendOrg.id, pending[0].id), { token: stranger.token }), 404);
  await expectStatus(api.post(paths.resend(resendOrg.id, '00000000-0000-4000-8000-000000000000'), { token: resender.token }), 404);
  await expectStatus(api.post(paths.resend(org.id, toReject.id), { token: invitee.token }), [400, 401]);
  await expireInvitation(stack, resendOrg.id, pending[1].id);
  await expectStatus(api.post(paths.resend(resendOrg.id, pending[1].id), { token: resender.token }), 410);
  let status = 0;
  for (let i = 0; i < 3 && status !== 429; i++) status = (await api.post(paths.resend(resendOrg.id, pending[0].id), { token: resender.token })).status;
  expect(status).toBe(429);

  // revokeInvitation: 204 (live; expired whose guard a newer invitation holds), 400 (answered),
  // 401, 404 (unknown, invisible, already revoked), through an old name
  const revoker = user('revoker');
  const revokeOrgName = uniqueOrgName();
  const revokeOrg = (await expectStatus(api.post(paths.organizations, { token: revoker.token, body: orgBody(revokeOrgName) }), 201)).body;
  const revokeOf = (orgName: string, invitationId: string, token: string) => api.delete(paths.invitation(orgName, invitationId), { token });
  const [toRevoke, toExpire] = (
    await expectStatus(
      api.post(paths.invitations(revokeOrgName), { token: revoker.token, body: { emails: [uniqueAddress(), uniqueAddress()] } }),
      201,
    )
  ).body.invitations;
  await expectStatus(revokeOf(revokeOrgName, toRevoke.id, revoker.token), 204);
  await expectStatus(revokeOf(revokeOrgName, toRevoke.id, revoker.token), 404);
  await expireInvitation(stack, revokeOrg.id, toExpire.id);
  const reinvited = (
    await expectStatus(api.post(paths.invitations(revokeOrgName), { token: revoker.token, body: { emails: [toExpire.userEmail] } }), 201)
  ).body.invitations[0];
  await expectStatus(revokeOf(revokeOrgName, toExpire.id, revoker.token), 204);
  await expectStatus(revokeOf(revokeOrgName, reinvited.id, stranger.token), 404);
  await expectStatus(revokeOf(name, toReject.id, admin.token), 400);
  await expectStatus(revokeOf(renamed, member.id, invitee.token), 401);
  await expectStatus(revokeOf(uniqueOrgName(), toRevoke.id, admin.token), 404);

  // listInvitationEvents: 200 (a revoked invitation's trail, paged), 404 (stranger; unknown id: the invitation read too), 400
  const eventsOf = (orgName: string, invitationId: string) => `${paths.invitation(orgName, invitationId)}/events`;
  await expectStatus(api.get(`${eventsOf(revokeOrgName, toRevoke.id)}?limit=1`, { token: revoker.token }), 200);
  await expectStatus(api.get(eventsOf(revokeOrgName, toRevoke.id), { token: stranger.token }), 404);
  await expectStatus(api.get(eventsOf(revokeOrgName, '00000000-0000-4000-8000-000000000000'), { token: revoker.token }), 404);
  await expectStatus(api.get(`${eventsOf(revokeOrgName, toRevoke.id)}?limit=0`, { token: revoker.token }), 400);

  // listInvitations with the email and invitedBy filters
  await expectStatus(api.get(`${invitations}?email=${encodeURIComponent(invitee.email)}&invitedBy=${admin.sub}`, { token: admin.token }), 200);

  // updateMember: 200, 400 (creator), 401, 404; removeMember: 204 (admin removes, member leaves), 400, 401, 404
  const memberPath = (userId: string) => `/v1/organizations/${renamed}/members/${userId}`;
  await expectStatus(api.request('PATCH', memberPath(invitee.sub), { token: admin.token, body: { associationType: 'ADMIN' } }), 200);
  await expectStatus(api.request('PATCH', memberPath(invitee.sub), { token: admin.token, body: { associationType: 'MEMBER' } }), 200);
  await expectStatus(api.request('PATCH', memberPath(admin.sub), { token: admin.token, body: { associationType: 'MEMBER' } }), 400);
  await expectStatus(api.request('PATCH', memberPath(admin.sub), { token: invitee.token, body: { associationType: 'MEMBER' } }), 401);
  await expectStatus(api.request('PATCH', memberPath(stranger.sub), { token: admin.token, body: { associationType: 'ADMIN' } }), 404);
  await expectStatus(api.request('DELETE', memberPath(admin.sub), { token: invitee.token }), 401);
  await expectStatus(api.request('DELETE', memberPath(admin.sub), { token: admin.token }), 400);
  await expectStatus(api.request('DELETE', memberPath(invitee.sub), { token: stranger.token }), 404);
  await expectStatus(api.request('DELETE', memberPath(invitee.sub), { token: invitee.token }), 204);
  await expectStatus(api.request('DELETE', memberPath(invitee.sub), { token: admin.token }), 404);

  // createInvitations, dry run: 200 (reads the addresses' pending guards)
  await expectStatus(api.post(`${paths.invitations(revokeOrgName)}?dryRun=true`, { token: revoker.token, body: { emails: [uniqueAddress()] } }), 200);

  // Every admin write of an ADMIN member who is not the creator also checks their membership
  // (ConditionCheckItem): create, resend, revoke, change a role, remove a member, update the
  // organization. (The creator's writes above need no such check.) Then one that lost its
  // authority to a demotion is refused after re-reading access.
  const founder = user('founder');
  const adminMember = user('admin-member');
  const joiner = user('joiner');
  const teamName = uniqueOrgName();
  const team = (await expectStatus(api.post(paths.organizations, { token: founder.token, body: orgBody(teamName) }), 201)).body;
  const teamInvitations = (
    await expectStatus(
      api.post(paths.invitations(teamName), { token: founder.token, body: { emails: [adminMember.email, joiner.email, uniqueAddress(), uniqueAddress()] } }),
      201,
    )
  ).body.invitations;
  const invitationOf = (email: string) => teamInvitations.find((i: any) => i.userEmail === email);
  await expectStatus(api.put(paths.invitation(teamName, invitationOf(adminMember.email).id), { token: adminMember.token, body: { status: 'ACCEPTED' } }), 200);
  await expectStatus(api.put(paths.invitation(teamName, invitationOf(joiner.email).id), { token: joiner.token, body: { status: 'ACCEPTED' } }), 200);
  const teamMember = (userId: string) => `/v1/organizations/${teamName}/members/${userId}`;
  await expectStatus(api.request('PATCH', teamMember(adminMember.sub), { token: founder.token, body: { associationType: 'ADMIN' } }), 200);
  const [toResend, toWithdraw] = teamInvitations.filter((i: any) => i.userEmail !== adminMember.email && i.userEmail !== joiner.email);
  await expectStatus(api.post(paths.invitations(teamName), { token: adminMember.token, body: { emails: [uniqueAddress()] } }), 201);
  await expectStatus(api.post(paths.resend(team.id, toResend.id), { token: adminMember.token }), 200);
  await expectStatus(revokeOf(teamName, toWithdraw.id, adminMember.token), 204);
  await expectStatus(api.request('PATCH', teamMember(joiner.sub), { token: adminMember.token, body: { associationType: 'ADMIN' } }), 200);
  await expectStatus(api.request('DELETE', teamMember(joiner.sub), { token: adminMember.token }), 204);
  await expectStatus(patch(team.id, adminMember.token, { ...orgBody(teamName), description: 'by an ADMIN member' }), 200);
  // Demoted between its read and its write: the ConditionCheck fails, access is re-read, 401.
  const demoteAdminMember = () =>
    api.request('PATCH', teamMember(adminMember.sub), { token: founder.token, body: { associationType: 'MEMBER' } });
  const interleaving = beforeFirstWriteTo(keys.orgPartition(team.id), async () => {
    const saved = currentFunction;
    await expectStatus(demoteAdminMember(), 200);
    currentFunction = saved;
  }, { ignore: [stack.db] });
  try {
    await expectStatus(api.post(paths.invitations(teamName), { token: adminMember.token, body: { emails: [uniqueAddress()] } }), 401);
  } finally {
    interleaving.restore();
  }
  expect(interleaving.ran()).toBe(true);

  // notFound
  await expectStatus(api.get('/v1/no-such-route', { token: admin.token }), 404);

  // deliverInvitationEmails: a new invitation's record (sent), then the same record again (skipped)
  const deliver = ((await import('../../functions/deliver-invitation-emails.ts')) as any).handler as (
    event: DynamoDBStreamEvent,
    context: unknown,
  ) => Promise<{ batchItemFailures: unknown[] }>;
  const stored = async (orgId: number, invitationId: string) =>
    (await stack.db.send(new GetCommand({ TableName: stack.tableName, Key: keys.invitation(orgId, invitationId), ConsistentRead: true }))).Item!;
  const record = streamRecordOf(await stored(resendOrg.id, pending[0].id), '100');
  for (let i = 0; i < 2; i++) {
    const result = await asFunction('deliverInvitationEmails', () => deliver({ Records: [record] }, lambdaContext('deliverInvitationEmails')));
    expect(result.batchItemFailures).toEqual([]);
  }
  const sent = await stored(resendOrg.id, pending[0].id);
  expect(sent.emailStatus).toBe('SENT');

  // emailFeedback: a permanent bounce of that email
  const feedback = ((await import('../../functions/email-feedback.ts')) as any).handler as (event: SNSEvent, context: unknown) => Promise<unknown>;
  await asFunction('emailFeedback', () =>
    feedback(
      snsEvent(sesBounceEvent({ messageId: sent.messageId, recipient: sent.userEmail, orgId: resendOrg.id, invitationId: sent.id, deliverySeq: sent.deliverySeq })),
      lambdaContext('emailFeedback'),
    ),
  );
  expect((await stored(resendOrg.id, pending[0].id)).emailStatus).toBe('BOUNCED');

  // sweepPendingEmails: the emails still pending (older than EMAIL_SWEEP_AGE_SECONDS = 1) are sent
  await sleep(1_100);
  const sweep = ((await import('../../functions/sweep-pending-emails.ts')) as any).handler as (event: unknown, context: unknown) => Promise<any>;
  const swept = await asFunction('sweepPendingEmails', () => sweep({}, lambdaContext('sweepPendingEmails')));
  expect(swept.sent).toBeGreaterThan(0);

  // fireInvitationTimers: the invitation expired above for the 410 (its timer entry moved to the
  // past expiry) gets its expired event: every worker runs, as the schedule invokes them
  const fireTimers = ((await import('../../functions/fire-invitation-timers.ts')) as any).handler as (event: unknown, context: unknown) => Promise<any>;
  const runs = await asFunction('fireInvitationTimers', () =>
    Promise.all(Array.from({ length: TIMER_WORKERS }, (_, worker) => fireTimers({ worker }, lambdaContext('fireInvitationTimers')))),
  );
  expect(runs.reduce((expired, run) => expired + run.expired, 0)).toBeGreaterThan(0);
}

let built: Synthesized;

/** What the template grants each function, by function id. */
function grantsOf(app: Synthesized) {
  const table = logicalId(app, app.stack.table);
  return new Map(ALL_FUNCTION_IDS.map((id) => [id, grantedPermissions(app.template, `${app.stack.stackName}-${id}`, table)]));
}

describe('DynamoDB permissions against the calls the code makes', () => {
  beforeAll(async () => {
    built = synth();
    await driveEverything();
  }, 120_000);

  it('drove every function that uses DynamoDB', () => {
    const silent = ALL_FUNCTION_IDS.filter((id) => id !== 'notFound' && !needed.has(id));
    expect(silent).toEqual([]);
  });

  it('every DynamoDB call is allowed by its function role in the synthesized template', () => {
    expect(comparePermissions(needed, grantsOf(built)).missing).toEqual([]);
  });

  it('every DynamoDB permission a role has is needed by some driven call', () => {
    expect(comparePermissions(needed, grantsOf(built)).unused).toEqual([]);
  });

  it('negative control: without one granted action the check reports exactly that call', () => {
    const route = routes.find((r) => r.id === 'answerInvitation')!;
    const original = route.dynamodb;
    const removed = 'dynamodb:DeleteItem';
    expect(original).toContain(removed);
    (route as { dynamodb: typeof original }).dynamodb = original.filter((grant) => grant !== removed);
    let weakened: Synthesized;
    try {
      weakened = synth();
    } finally {
      (route as { dynamodb: typeof original }).dynamodb = original;
    }
    const report = comparePermissions(needed, grantsOf(weakened));
    expect(report.missing).toEqual([expect.stringMatching(/^answerInvitation: dynamodb:DeleteItem table \(needed by TransactWriteItemsCommand\)$/)]);
  });
});
