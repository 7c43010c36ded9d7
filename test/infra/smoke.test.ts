/**
 * The post-deploy smoke test (scripts/smoke.ts), run against the local stack: the same gateway
 * behaviour, authorizer, handlers and email delivery it checks on AWS.
 */
import { describe, expect, it } from 'vitest';
import { runSmoke, SIMULATOR_RECIPIENT, SmokeFailure } from '../../scripts/smoke.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const { stack } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

function token(sub: string, email: string) {
  return stack.issuer.token({ sub, email, username: sub });
}

describe('smoke test', () => {
  it('creates, lists, gets and answers an invitation as admin and invitee, and sees the email sent', async () => {
    const lines: string[] = [];
    const result = await runSmoke(
      {
        url: `${stack.url}/`,
        token: token('smoke-admin', 'smoke-admin@acme.test'),
        inviteeToken: token('smoke-invitee', 'smoke-invitee@acme.test'),
        origin: 'http://localhost:3001', // the local default: the origin of FRONTEND_URL
        emailWaitSeconds: 30,
        requireEmailSent: true,
      },
      (line) => lines.push(line),
    );
    expect(result).toMatchObject({ answered: true, emailStatus: 'SENT', recipient: 'smoke-invitee@acme.test' });
    expect(result.organization).toMatch(/^smoke-/);
    expect(lines.at(-1)).toMatch(/^smoke test passed/);
    expect(lines.filter((line) => line.startsWith('ok '))).toHaveLength(15);
    expect(lines).toContain('ok  a garbage token is refused by the authorizer (GET /v1/user/organizations → 401)');
    expect(lines.some((line) => line.startsWith('ok  CORS preflight from http://localhost:3001'))).toBe(true);
  });

  it('without an invitee token, invites the SES mailbox simulator and skips the invitee’s answer', async () => {
    const lines: string[] = [];
    const result = await runSmoke(
      { url: stack.url, token: token('smoke-admin-2', 'smoke-admin-2@acme.test'), emailWaitSeconds: 0 },
      (line) => lines.push(line),
    );
    expect(result.answered).toBe(false);
    expect(lines.join('\n')).toContain('skipped; pass --invitee-token');
    expect(lines.join('\n')).toContain('CORS preflight: skipped; pass --origin');
    expect(result.recipient).toBe(SIMULATOR_RECIPIENT);
  });

  it('fails clearly when a preflight from the given origin is not allowed', async () => {
    const admin = token('smoke-admin-3', 'smoke-admin-3@acme.test');
    await expect(runSmoke({ url: stack.url, token: admin, origin: 'https://not-allowed.acme.test', emailWaitSeconds: 0 }, () => undefined)).rejects.toThrow(
      /Access-Control-Allow-Origin "": is https:\/\/not-allowed.acme.test in allowedOrigins/,
    );
  });

  it('fails clearly on a token the API refuses and on an invitee who is the admin', async () => {
    await expect(runSmoke({ url: stack.url, token: 'not-a-jwt' }, () => undefined)).rejects.toThrow(SmokeFailure);
    const admin = token('same-user', 'same@acme.test');
    await expect(runSmoke({ url: stack.url, token: admin, inviteeToken: admin }, () => undefined)).rejects.toThrow(/same user/);
    const forged = `${admin.slice(0, admin.lastIndexOf('.'))}.AAAA`;
    await expect(runSmoke({ url: stack.url, token: forged, emailWaitSeconds: 0 }, () => undefined)).rejects.toThrow(
      /GET \/v1\/no-such-route answered 401, expected 404/,
    );
  });
});
