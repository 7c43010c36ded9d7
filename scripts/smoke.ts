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
 * The invitee must be a different user (another `sub` and email) than the admin: the creator of
 * an organization is its member, and members are not invited.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

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

  async function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new SmokeFailure(`${method} ${path}: ${(error as Error).message}`);
    }
    const text = await response.text();
    let json: any;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json, text };
  }

  async function expectStatus(step: string, method: string, path: string, token: string | undefined, status: number, body?: unknown) {
    const response = await call(method, path, token, body);
    if (response.status !== status) {
      throw new SmokeFailure(`${step}: ${method} ${path} answered ${response.status}, expected ${status}: ${response.text.slice(0, 500)}`);
    }
    log(`ok  ${step} (${method} ${path} → ${status})`);
    return response;
  }

  function check(condition: unknown, message: string): asserts condition {
    if (!condition) throw new SmokeFailure(message);
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
  const anonymous = await expectStatus('no token is refused by the authorizer', 'GET', '/v1/user/organizations', undefined, 401);
  check(anonymous.json?.message === 'Unauthorized', `401 body should be {"message":"Unauthorized"}, got ${anonymous.text}`);
  const garbage = await call('GET', '/v1/user/organizations', 'garbage.token.here');
  check(garbage.status === 401, `a garbage token should be refused with 401, got ${garbage.status}: ${garbage.text.slice(0, 500)}`);
  log('ok  a garbage token is refused by the authorizer (GET /v1/user/organizations → 401)');
  if (options.origin) await checkPreflight(options.origin);
  else log('--  CORS preflight: skipped; pass --origin <frontend origin> to check what browsers need');
  const unknown = await expectStatus('unknown routes answer JSON 404', 'GET', '/v1/no-such-route', options.token, 404);
  check(unknown.json?.status === 404, `404 body should be the service's error JSON, got ${unknown.text}`);

  // Organization.
  const organization = `smoke-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const contactEmail = typeof admin.email === 'string' && admin.email.includes('@') ? admin.email : SIMULATOR_RECIPIENT;
  const created = await expectStatus('create organization', 'POST', '/v1/organizations', options.token, 201, {
    name: organization,
    contactEmail,
    visibility: 'PRIVATE',
    description: 'Created by the post-deploy smoke test.',
  });
  check(created.json?.name === organization && Number.isInteger(created.json?.id), `unexpected organization: ${created.text}`);
  check(
    created.headers.get('location') === `/v1/organizations/${organization}`,
    `Location should be /v1/organizations/${organization}, got ${created.headers.get('location')}`,
  );
  const read = await expectStatus('get organization', 'GET', `/v1/organizations/${organization}`, options.token, 200);
  check(read.json?.isMember === true && read.json?.canEdit === true, `the creator should be an admin member: ${read.text}`);
  const mine = await expectStatus('list my organizations', 'GET', '/v1/user/organizations', options.token, 200);
  check(Array.isArray(mine.json) && mine.json.some((o: { name?: string }) => o.name === organization), 'the new organization is not in the list');

  // Invitation: create, list, get.
  const recipient = invitee?.email ?? SIMULATOR_RECIPIENT;
  const invited = await expectStatus('create invitation', 'POST', `/v1/organizations/${organization}/invitations`, options.token, 201, {
    emails: [recipient],
  });
  const invitation = invited.json?.invitations?.[0];
  check(
    invited.json?.invitations?.length === 1 && invitation.status === 'PENDING',
    `expected one PENDING invitation for ${recipient}, got ${invited.text}`,
  );
  const invitationPath = `/v1/organizations/${organization}/invitations/${invitation.id}`;
  const listed = await expectStatus('list invitations', 'GET', `/v1/organizations/${organization}/invitations`, options.token, 200);
  check(Array.isArray(listed.json) && listed.json.some((i: { id?: string }) => i.id === invitation.id), 'the invitation is not listed');
  const got = await expectStatus('get invitation (admin)', 'GET', invitationPath, options.token, 200);
  check(got.json?.id === invitation.id && got.json?.userEmail === recipient, `unexpected invitation: ${got.text}`);

  // Email delivery (asynchronous: table stream → delivery function → SES). Before the answer:
  // an invitation answered first is, rightly, not emailed any more.
  let emailStatus = String(got.json?.emailStatus ?? 'PENDING');
  const deadline = Date.now() + (options.emailWaitSeconds ?? 60) * 1000;
  let last = got;
  while (emailStatus === 'PENDING' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    last = await call('GET', invitationPath, options.token);
    if (last.status === 200) emailStatus = String(last.json?.emailStatus);
  }
  if (emailStatus === 'SENT') log(`ok  invitation email SENT to ${recipient} (sendCount ${last.json?.sendCount})`);
  else log(`!!  invitation email ${emailStatus}${last.json?.lastError ? `: ${last.json.lastError}` : ''}`);
  if (options.requireEmailSent && emailStatus !== 'SENT') {
    throw new SmokeFailure(`the invitation email is ${emailStatus}, expected SENT${last.json?.lastError ? ` (${last.json.lastError})` : ''}`);
  }

  // Answer: only the invitee may.
  await expectStatus('an admin cannot answer for the invitee', 'PUT', invitationPath, options.token, 404, { status: 'ACCEPTED' });
  let answered = false;
  if (options.inviteeToken) {
    await expectStatus('get invitation (invitee)', 'GET', invitationPath, options.inviteeToken, 200);
    const accepted = await expectStatus('accept invitation (invitee)', 'PUT', invitationPath, options.inviteeToken, 200, {
      status: 'ACCEPTED',
    });
    check(accepted.json?.status === 'ACCEPTED', `the invitation should be ACCEPTED: ${accepted.text}`);
    const member = await expectStatus('the invitee sees the private organization', 'GET', `/v1/organizations/${organization}`, options.inviteeToken, 200);
    check(member.json?.isMember === true, `the invitee should now be a member: ${member.text}`);
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
