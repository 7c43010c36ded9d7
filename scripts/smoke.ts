/**
 * Post-deploy smoke test: exercises a running API end to end (gateway, authorizer, functions,
 * table, and the email delivery behind them) with real tokens.
 *
 *   npm run smoke -- --url <api url> --token <admin jwt> [--invitee-token <jwt>] [--origin <frontend origin>]
 *                    [--email-wait <seconds>] [--require-email-sent]
 *
 * (or SMOKE_URL, SMOKE_TOKEN, SMOKE_INVITEE_TOKEN, SMOKE_ORIGIN in the environment, which keeps
 * tokens out of the shell history and the process list).
 *
 * Steps: a request without a token and one with a garbage token are refused (401); with
 * --origin, a browser's preflight from that origin is answered with the CORS allow headers
 * (without a token: the gateway answers it, not the authorizer); an unknown route answers the JSON 404;
 * the admin creates a fresh PRIVATE organization `smoke-…`, reads it, invites the invitee (the
 * email claim of --invitee-token, else SES's mailbox simulator success@simulator.amazonses.com),
 * lists the invitations and reads the new one; waits for the invitation's email to leave PENDING
 * and reports SENT or FAILED (with the reason); the admin may not answer the invitation (404).
 * With --invitee-token, the invitee reads and accepts it and then sees the private organization.
 * The smoke organization stays behind (the API has no delete).
 *
 * The API's operations go through the typed client (client/index.ts); the CORS preflight and the
 * unknown route, which are not operations of openapi.yaml, are plain requests.
 *
 * The invitee must be a different user (another `sub` and email) than the admin: the creator of
 * an organization is its member, and members are not invited.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createInvitationsClient } from '../client/index.ts';

/** What a typed-client call resolves to. */
type Answer = { readonly data?: unknown; readonly error?: unknown; readonly response: Response };

export interface SmokeOptions {
  readonly url: string;
  readonly token: string;
  readonly inviteeToken?: string;
  /** An allowed origin (the frontend's): checks the CORS preflight a browser sends from it. */
  readonly origin?: string;
  /** How long to wait for the invitation email to leave PENDING (0: do not wait). */
  readonly emailWaitSeconds?: number;
  readonly requireEmailSent?: boolean;
  readonly fetch?: typeof fetch;
}

export interface SmokeResult {
  readonly organization: string;
  readonly invitationId: string;
  readonly recipient: string;
  readonly answered: boolean;
  readonly emailStatus: string;
}

/** SES's mailbox simulator: accepted in the SES sandbox, no real mailbox, no reputation cost. */
export const SIMULATOR_RECIPIENT = 'success@simulator.amazonses.com';

export class SmokeFailure extends Error {
  override readonly name = 'SmokeFailure';
}

export async function runSmoke(options: SmokeOptions, log: (line: string) => void = console.log): Promise<SmokeResult> {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const admin = claimsOf(options.token, '--token');
  const invitee = options.inviteeToken ? claimsOf(options.inviteeToken, '--invitee-token') : undefined;
  if (invitee) {
    if (!invitee.email) throw new SmokeFailure('--invitee-token has no email claim: the invitation goes to that address.');
    if (invitee.email_verified !== true) throw new SmokeFailure('--invitee-token has no email_verified: true claim; an unverified invitee cannot answer.');
    if (invitee.sub === admin.sub) throw new SmokeFailure('--invitee-token is the same user as --token; the creator of an organization is already its member.');
  }

  // The API's operations go through the typed client (client/index.ts), so a path, parameter or
  // body that drifted from openapi.yaml fails to compile here, not on the deployed stack.
  const client = (token?: string) => createInvitationsClient(base, { token, fetch: (request) => doFetch(request), timeoutMs: 30_000 });
  const api = client(options.token);
  const anonymous = client();
  const asInvitee = options.inviteeToken ? client(options.inviteeToken) : undefined;

  /** Awaits a call; a network failure or timeout is a SmokeFailure naming the step. */
  async function answer<T extends Answer>(step: string, call: Promise<T>): Promise<T & { text: string }> {
    let result: T;
    try {
      result = await call;
    } catch (error) {
      throw new SmokeFailure(`${step}: ${(error as Error).message}`);
    }
    const body = result.data ?? result.error;
    return { ...result, text: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) };
  }

  async function expectStatus<T extends Answer>(step: string, method: string, call: Promise<T>, status: number) {
    const result = await answer(step, call);
    const path = new URL(result.response.url).pathname;
    if (result.response.status !== status) {
      throw new SmokeFailure(`${step}: ${method} ${path} answered ${result.response.status}, expected ${status}: ${result.text.slice(0, 500)}`);
    }
    log(`ok  ${step} (${method} ${path} → ${status})`);
    return result;
  }

  function check(condition: unknown, message: string): asserts condition {
    if (!condition) throw new SmokeFailure(message);
  }

  /** A GET outside the spec, read as the client reads answers (JSON `data` on 2xx, else `error`). */
  async function rawGet(path: string, token: string): Promise<Answer> {
    const response = await doFetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return response.ok ? { data: body, response } : { error: body, response };
  }

  /** What a browser on `origin` sends before an invitation POST, and needs back. */
  async function checkPreflight(origin: string) {
    const path = '/v1/organizations/smoke/invitations';
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new SmokeFailure(`OPTIONS ${path}: ${(error as Error).message}`);
    }
    const header = (name: string) => (response.headers.get(name) ?? '').toLowerCase();
    const listed = (name: string) => header(name).split(',').map((value) => value.trim());
    check(response.status >= 200 && response.status < 300, `the preflight from ${origin} answered ${response.status}, expected 2xx (is OPTIONS behind the authorizer?)`);
    check(
      [origin.toLowerCase(), '*'].includes(header('access-control-allow-origin')),
      `the preflight from ${origin} got Access-Control-Allow-Origin "${header('access-control-allow-origin')}": is ${origin} in allowedOrigins?`,
    );
    check(listed('access-control-allow-methods').includes('post'), `the preflight does not allow POST: "${header('access-control-allow-methods')}"`);
    for (const name of ['authorization', 'content-type', 'idempotency-key']) {
      check(listed('access-control-allow-headers').includes(name), `the preflight does not allow the ${name} header: "${header('access-control-allow-headers')}"`);
    }
    log(`ok  CORS preflight from ${origin} (OPTIONS ${path} → ${response.status} with the allow headers)`);
  }

  // The gateway: the authorizer guards every route, unknown routes get the service's JSON 404.
  const refused = await expectStatus('no token is refused by the authorizer', 'GET', anonymous.GET('/v1/user/organizations'), 401);
  check((refused.error as { message?: unknown } | undefined)?.message === 'Unauthorized', `401 body should be {"message":"Unauthorized"}, got ${refused.text}`);
  const garbage = await answer('a garbage token', anonymous.GET('/v1/user/organizations', { headers: { authorization: 'Bearer garbage.token.here' } }));
  const garbageStatus = garbage.response.status;
  check(garbageStatus === 401, `a garbage token should be refused with 401, got ${garbageStatus}: ${garbage.text.slice(0, 500)}`);
  log('ok  a garbage token is refused by the authorizer (GET /v1/user/organizations → 401)');
  if (options.origin) await checkPreflight(options.origin);
  else log('--  CORS preflight: skipped; pass --origin <frontend origin> to check what browsers need');
  // Not an operation of the spec, so not the typed client: the raw request the gateway routes to `$default`.
  const unknown = await expectStatus('unknown routes answer JSON 404', 'GET', rawGet('/v1/no-such-route', options.token), 404);
  check((unknown.error as { status?: unknown } | undefined)?.status === 404, `404 body should be the service's error JSON, got ${unknown.text}`);

  // Organization.
  const organization = `smoke-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const contactEmail = typeof admin.email === 'string' && admin.email.includes('@') ? admin.email : SIMULATOR_RECIPIENT;
  const created = await expectStatus(
    'create organization',
    'POST',
    api.POST('/v1/organizations', { body: { name: organization, contactEmail, visibility: 'PRIVATE', description: 'Created by the post-deploy smoke test.' } }),
    201,
  );
  check(created.data?.name === organization && Number.isInteger(created.data?.id), `unexpected organization: ${created.text}`);
  const location = created.response.headers.get('location');
  check(location === `/v1/organizations/${organization}`, `Location should be /v1/organizations/${organization}, got ${location}`);
  const byName = { params: { path: { name: organization } } };
  const read = await expectStatus('get organization', 'GET', api.GET('/v1/organizations/{name}', byName), 200);
  check(read.data?.isMember === true && read.data?.canEdit === true, `the creator should be an admin member: ${read.text}`);
  const mine = await expectStatus('list my organizations', 'GET', api.GET('/v1/user/organizations'), 200);
  check(mine.data?.some((o) => o.name === organization), 'the new organization is not in the list');

  // Invitation: create, list, get.
  const recipient = invitee?.email ?? SIMULATOR_RECIPIENT;
  const ofOrganization = { params: { path: { orgName: organization } } };
  const invited = await expectStatus(
    'create invitation',
    'POST',
    api.POST('/v1/organizations/{orgName}/invitations', { ...ofOrganization, body: { emails: [recipient] } }),
    201,
  );
  // 201 lists the created invitations (200 is a dry run's verdicts, not asked for here).
  const invitations = invited.data && 'invitations' in invited.data ? invited.data.invitations : undefined;
  const invitation = invitations?.[0];
  check(
    invitations?.length === 1 && invitation?.id && invitation.status === 'PENDING',
    `expected one PENDING invitation for ${recipient}, got ${invited.text}`,
  );
  const theInvitation = { params: { path: { name: organization, uuid: invitation.id } } };
  const listed = await expectStatus('list invitations', 'GET', api.GET('/v1/organizations/{orgName}/invitations', ofOrganization), 200);
  check(listed.data?.some((i) => i.id === invitation.id), 'the invitation is not listed');
  const got = await expectStatus('get invitation (admin)', 'GET', api.GET('/v1/organizations/{name}/invitations/{uuid}', theInvitation), 200);
  check(got.data && got.data.id === invitation.id && got.data.userEmail === recipient, `unexpected invitation: ${got.text}`);

  // Email delivery (asynchronous: table stream → delivery function → SES). Before the answer:
  // an invitation answered first is, rightly, not emailed any more.
  let emailStatus = String(got.data?.emailStatus ?? 'PENDING');
  const deadline = Date.now() + (options.emailWaitSeconds ?? 60) * 1000;
  const readInvitation = () => answer('get invitation (admin)', api.GET('/v1/organizations/{name}/invitations/{uuid}', theInvitation));
  let last: Awaited<ReturnType<typeof readInvitation>> = got;
  while (emailStatus === 'PENDING' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    last = await readInvitation();
    if (last.response.status === 200) emailStatus = String(last.data?.emailStatus);
  }
  const lastError = last.data?.lastError;
  if (emailStatus === 'SENT') log(`ok  invitation email SENT to ${recipient} (sendCount ${last.data?.sendCount})`);
  else log(`!!  invitation email ${emailStatus}${lastError ? `: ${lastError}` : ''}`);
  if (options.requireEmailSent && emailStatus !== 'SENT') {
    throw new SmokeFailure(`the invitation email is ${emailStatus}, expected SENT${lastError ? ` (${lastError})` : ''}`);
  }

  // Answer: only the invitee may.
  // The spec's body is the invitation (as Jaqpot's clients send it back); only `status` is read.
  const accepting = (read: NonNullable<typeof got.data>) => ({ ...theInvitation, body: { ...read, status: 'ACCEPTED' as const } });
  await expectStatus('an admin cannot answer for the invitee', 'PUT', api.PUT('/v1/organizations/{name}/invitations/{uuid}', accepting(got.data)), 404);
  let answered = false;
  if (asInvitee) {
    const seen = await expectStatus('get invitation (invitee)', 'GET', asInvitee.GET('/v1/organizations/{name}/invitations/{uuid}', theInvitation), 200);
    check(seen.data, `the invitee should see the invitation: ${seen.text}`);
    const accepted = await expectStatus(
      'accept invitation (invitee)',
      'PUT',
      asInvitee.PUT('/v1/organizations/{name}/invitations/{uuid}', accepting(seen.data)),
      200,
    );
    check(accepted.data?.status === 'ACCEPTED', `the invitation should be ACCEPTED: ${accepted.text}`);
    const member = await expectStatus('the invitee sees the private organization', 'GET', asInvitee.GET('/v1/organizations/{name}', byName), 200);
    check(member.data?.isMember === true, `the invitee should now be a member: ${member.text}`);
    answered = true;
  } else {
    log('--  accept invitation (invitee): skipped; pass --invitee-token to answer as the invitee');
  }

  log(`smoke test passed: organization ${organization}, invitation ${invitation.id}`);
  return { organization, invitationId: invitation.id, recipient, answered, emailStatus };
}

/** The token's payload, unverified (the API verifies it; here it only tells who the user is). */
function claimsOf(token: string, flag: string): Record<string, any> {
  const payload = token.split('.')[1];
  try {
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    if (typeof claims === 'object' && claims !== null) return claims;
  } catch {
    // reported below
  }
  throw new SmokeFailure(`${flag} is not a JWT`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'invitee-token': { type: 'string' },
      origin: { type: 'string' },
      'email-wait': { type: 'string', default: '60' },
      'require-email-sent': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const url = values.url ?? process.env.SMOKE_URL;
  const token = values.token ?? process.env.SMOKE_TOKEN;
  const inviteeToken = values['invitee-token'] ?? process.env.SMOKE_INVITEE_TOKEN;
  const origin = values.origin ?? process.env.SMOKE_ORIGIN;
  const emailWaitSeconds = Number(values['email-wait']);
  if (values.help || !url || !token || !Number.isInteger(emailWaitSeconds) || emailWaitSeconds < 0) {
    console.error(
      'usage: npm run smoke -- --url <api url> --token <admin jwt> [--invitee-token <jwt>] [--origin <frontend origin>] [--email-wait <seconds, default 60>] [--require-email-sent]\n' +
        '       (or SMOKE_URL, SMOKE_TOKEN, SMOKE_INVITEE_TOKEN, SMOKE_ORIGIN)',
    );
    process.exit(values.help ? 0 : 2);
  }
  try {
    await runSmoke({ url, token, inviteeToken, origin, emailWaitSeconds, requireEmailSent: values['require-email-sent'] });
  } catch (error) {
    console.error(`FAIL ${error instanceof SmokeFailure ? error.message : (error as Error).stack}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
