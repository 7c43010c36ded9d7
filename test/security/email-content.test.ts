/**
 * Issue 5, "prove it under attack": what a user can put into an invitation email.
 *
 * test/integration/email-delivery.test.ts checks one CR/LF preferred_username (subject on one
 * line, single recipient) and one <script> username escaped. This file attacks every
 * user-controlled value that reaches the email: the inviter's preferred_username and email claims
 * (header injection and HTML), the organization name and the invitee address (which must be
 * refused at the API), and the request's Host / X-Forwarded-* / Forwarded headers (which must never
 * shape the link: FRONTEND_URL is configuration). Emails are read from the shared SES emulator,
 * filtered by unique recipients.
 */
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LocalEmail } from '../../local/ses-local.ts';
import { emailsTo, expectExactlyEmails, LOCAL_FRONTEND_URL, LOCAL_SENDER, sleep, uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { scanTable } from '../support/scan.ts';
import { RELAXED_RATE_LIMITS, uniqueOrgName, useTestStack } from '../support/stack.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

// ---------------------------------------------------------------------------------------------
// Helpers

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The tags the invitation template itself uses; anything else in the HTML came from a user. */
const TEMPLATE_TAGS = new Set(['!doctype', 'html', 'body', 'div', 'p', 'strong', 'a']);

const invitationLink = (orgName: string, invitationId: string) =>
  `${LOCAL_FRONTEND_URL}/dashboard/organizations/${orgName}/invitations/${invitationId}`;

/** An organization created by a fresh admin whose token carries exactly these claims. */
async function orgOfInviter(claims: { username?: string; email?: string }) {
  const sub = `inviter-${randomUUID().slice(0, 8)}`;
  const admin: TestUser = {
    sub,
    email: claims.email ?? '',
    token: stack.issuer.token({ sub, email: claims.email ?? `${sub}@example.com`, username: claims.username }),
  };
  const org = await createOrganization(stack, admin);
  return { admin, org };
}

/**
 * Invites one fresh address and returns its one email, after checking the envelope: one
 * recipient (exactly the invitee), the configured sender, no Reply-To, and a one-line subject.
 * Also checks that `victim` (the address an injected Bcc/Cc would add) received nothing.
 */
async function inviteAndCheckEnvelope(admin: TestUser, orgName: string, victim?: string) {
  const address = uniqueAddress('target');
  const { invitations } = await invite(stack, admin, orgName, [address]);
  const [email] = await expectExactlyEmails(stack.sesEndpoint, [address], 1, 500);
  expectSafeEnvelope(email!, address);
  if (victim) expect(await emailsTo(stack.sesEndpoint, [victim]), `emails to ${victim}`).toEqual([]);
  return { address, invitation: invitations[0], email: email! };
}

function expectSafeEnvelope(email: LocalEmail, address: string) {
  expect(email.destination).toEqual({ to: [address], cc: [], bcc: [] });
  expect(email.from).toBe(LOCAL_SENDER);
  expect(email.replyTo).toEqual([]);
  expect(email.subject, JSON.stringify(email.subject)).not.toMatch(LINE_BREAKING);
  for (const header of email.headers ?? []) {
    expect(header.name, JSON.stringify(header)).not.toMatch(/^(bcc|cc|to|subject|reply-to|from)$/i);
    expect(header.value, JSON.stringify(header)).not.toMatch(LINE_BREAKING);
  }
}

/** Every tag in the HTML part is one of the template's own. */
function expectOnlyTemplateTags(html: string) {
  const tags = [...html.matchAll(/<\/?\s*([a-z!][a-z0-9-]*)/gi)].map((match) => match[1]!.toLowerCase());
  expect(tags.filter((tag) => !TEMPLATE_TAGS.has(tag))).toEqual([]);
  // No attribute but the template's own (style, href) on any tag.
  const attributes = [...html.matchAll(/<[a-z!][^>]*>/gi)].flatMap((match) =>
    [...match[0].matchAll(/\s([a-z-]+)\s*=/gi)].map((m) => m[1]!.toLowerCase()),
  );
  expect(attributes.filter((name) => !['style', 'href'].includes(name))).toEqual([]);
}

/** Every link in the email (HTML hrefs and URLs in both parts) is exactly the invitation link. */
function expectOnlyTheLink(email: LocalEmail, orgName: string, invitationId: string) {
  const link = invitationLink(orgName, invitationId);
  const { html, text } = email.body;
  const hrefs = [...html!.matchAll(/href\s*=\s*"([^"]*)"/gi)].map((match) => match[1]);
  expect(hrefs.length).toBeGreaterThan(0);
  for (const href of hrefs) expect(href).toBe(link);
  for (const part of [html!, text!]) {
    const urls = [...part.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"<>]+/gi)].map((match) => match[0]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toBe(link);
    expect(part).not.toMatch(/evil/i);
  }
}

// ---------------------------------------------------------------------------------------------

describe('header injection through the inviter', () => {
  /** VICTIM stands for a fresh address the injected header would add. */
  const injections: Array<[string, string]> = [
    ['CRLF + Bcc', 'Eve\r\nBcc: VICTIM'],
    ['LF + Subject', 'x\nSubject: hi'],
    ['CR + Cc', 'Eve\rCc: VICTIM'],
    ['CRLF CRLF + a body', 'Eve\r\n\r\n<html>owned</html>'],
    ['a folded header', 'Eve\r\n Bcc: VICTIM'],
    ['a Unicode line separator', 'Eve\u2028Bcc: VICTIM'],
    ['NEL (U+0085)', 'Eve\u0085Bcc: VICTIM'],
    ['an encoded-word hiding CRLF', '=?UTF-8?Q?Eve=0D=0ABcc:_VICTIM?='],
  ];

  it.each(injections)('a preferred_username with %s reaches no header: one recipient, a one-line subject', async (label, template) => {
    const victim = uniqueAddress('victim');
    const { admin, org } = await orgOfInviter({ username: template.replace('VICTIM', victim) });

    const { email } = await inviteAndCheckEnvelope(admin, org.name, victim);

    expect(email.subject, label).toMatch(new RegExp(`invited you to join ${org.name} on Jaqpot$`));
    await sleep(500);
    expect(await emailsTo(stack.sesEndpoint, [victim]), label).toEqual([]);
  });

  it.each([
    ['CRLF + Bcc', (victim: string) => `eve@example.com\r\nBcc: ${victim}`],
    ['LF + Subject', () => 'x\nSubject: hi'],
    ['CR + To', (victim: string) => `eve@example.com\rTo: ${victim}`],
  ])('an email claim with %s (no preferred_username) reaches no header', async (label, build) => {
    const victim = uniqueAddress('victim');
    const { admin, org } = await orgOfInviter({ email: build(victim) });

    const { email } = await inviteAndCheckEnvelope(admin, org.name, victim);

    // The inviter is named by the email claim, flattened to one line.
    expect(email.subject, label).toMatch(new RegExp(`invited you to join ${org.name} on Jaqpot$`));
    expect(email.subject).toContain(label === 'LF + Subject' ? 'x Subject: hi' : 'eve@example.com');
    await sleep(500);
    expect(await emailsTo(stack.sesEndpoint, [victim])).toEqual([]);
  });
});

describe('values that never reach an email because the API refuses them', () => {
  const badNames = [
    'acme\r\nBcc: victim@example.com',
    'x\nSubject: hi',
    'acme\n',
    'acme\r',
    'acme\u2028x',
    '<img src=x onerror=alert(1)>',
    '"><script>alert(1)</script>',
    "acme' onmouseover='alert(1)",
    'acme/../evil',
    'acme?x=https://evil.example',
  ];

  it.each(badNames)('create organization refuses the name %j with 400 and writes nothing', async (name) => {
    const before = await scanTable(stack);

    const response = await stack.api.post(paths.organizations, {
      token: user('founder').token,
      body: { name, contactEmail: 'contact@example.com', visibility: 'PUBLIC' },
    });

    expect(response.status, response.text).toBe(400);
    expect(await scanTable(stack)).toEqual(before);
  });

  it('a rename refuses them too (400), so an invitation can never carry one', async () => {
    const { admin, org } = await orgOfInviter({ username: 'alice' });

    for (const name of badNames) {
      const response = await stack.api.request('PATCH', `/v1/organizations/${org.id}/partial`, {
        token: admin.token,
        body: { name, contactEmail: 'contact@example.com', visibility: 'PRIVATE' },
      });
      expect(response.status, `${JSON.stringify(name)}: ${response.text}`).toBe(400);
    }
    expect((await stack.api.get(paths.organization(org.name), { token: admin.token })).body.name).toBe(org.name);
  });

  it.each([
    ['CRLF + Bcc', (victim: string) => `target@example.com\r\nBcc: ${victim}`],
    ['LF + Cc', (victim: string) => `target@example.com\nCc: ${victim}`],
    ['a second address after a comma', (victim: string) => `target@example.com, ${victim}`],
    ['a display name with angle brackets', (victim: string) => `Target <target@example.com>, <${victim}>`],
    ['a semicolon list', (victim: string) => `target@example.com;${victim}`],
    ['a quoted local part with a CRLF', (victim: string) => `"a\r\nBcc: ${victim}"@example.com`],
  ])('create invitations refuses an invitee address with %s (400, nothing written, no email)', async (_label, build) => {
    const { admin, org } = await orgOfInviter({ username: 'alice' });
    const victim = uniqueAddress('victim');
    const before = await scanTable(stack);

    const response = await stack.api.post(paths.invitations(org.name), { token: admin.token, body: { emails: [build(victim)] } });

    expect(response.status, response.text).toBe(400);
    expect(await scanTable(stack)).toEqual(before);
    await sleep(500);
    expect(await emailsTo(stack.sesEndpoint, [victim])).toEqual([]);
  });
});

describe('HTML in user-controlled values is escaped', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['"><script>alert(1)</script>', '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'],
    ["' onmouseover='alert(1)' x='", '&#39; onmouseover=&#39;alert(1)&#39; x=&#39;'],
    ['<a href="https://evil.example">click</a>', '&lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt;'],
    ['Tom &amp; Jerry', 'Tom &amp;amp; Jerry'],
  ])('preferred_username %j arrives escaped in the HTML part', async (username, escaped) => {
    const { admin, org } = await orgOfInviter({ username });

    const { email, invitation } = await inviteAndCheckEnvelope(admin, org.name);

    const html = email.body.html!;
    expect(html).toContain(escaped);
    expect(html).not.toContain(username);
    expectOnlyTemplateTags(html);
    // The text part is plain text: the value as typed, no markup processing.
    expect(email.body.text).toContain(username);
    // Injected markup cannot add or redirect a link.
    const hrefs = [...html.matchAll(/href\s*=\s*"([^"]*)"/gi)].map((match) => match[1]);
    for (const href of hrefs) expect(href).toBe(invitationLink(org.name, invitation.id));
  });

  it('an email claim with markup (no preferred_username) arrives escaped in the HTML part', async () => {
    const claim = `"><svg onload=alert(1)>@example.com`;
    const { admin, org } = await orgOfInviter({ email: claim });

    const { email } = await inviteAndCheckEnvelope(admin, org.name);

    expect(email.body.html).toContain('&quot;&gt;&lt;svg onload=alert(1)&gt;@example.com');
    expect(email.body.html).not.toContain(claim);
    expectOnlyTemplateTags(email.body.html!);
  });
});

describe('the link always uses FRONTEND_URL, whatever the request headers say', () => {
  const evilHeaders: Record<string, string> = {
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '443',
    'x-forwarded-prefix': '/phish',
    'x-original-host': 'evil.example',
    'x-host': 'evil.example',
    forwarded: 'for=203.0.113.7;host=evil.example;proto=https',
    origin: 'https://evil.example',
    referer: 'https://evil.example/dashboard',
  };

  it('on create, with X-Forwarded-* / Forwarded / Origin / Referer headers (fetch)', async () => {
    const { admin, org } = await orgOfInviter({ username: 'alice' });
    const address = uniqueAddress('linked');

    const response = await stack.api.post(paths.invitations(org.name), {
      token: admin.token,
      body: { emails: [address] },
      headers: evilHeaders,
    });

    expect(response.status, response.text).toBe(201);
    const [email] = await expectExactlyEmails(stack.sesEndpoint, [address], 1, 0);
    expectSafeEnvelope(email!, address);
    expectOnlyTheLink(email!, org.name, response.body.invitations[0].id);
  });

  it('on create, with a forged Host header as well (node:http)', async () => {
    const { admin, org } = await orgOfInviter({ username: 'alice' });
    const address = uniqueAddress('linked');
    const body = JSON.stringify({ emails: [address] });
    const url = new URL(`${stack.url}${paths.invitations(org.name)}`);

    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            ...evilHeaders,
            host: 'evil.example',
            authorization: `Bearer ${admin.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

    expect(response.status, response.text).toBe(201);
    const created = JSON.parse(response.text).invitations[0];
    const [email] = await expectExactlyEmails(stack.sesEndpoint, [address], 1, 0);
    expectSafeEnvelope(email!, address);
    expectOnlyTheLink(email!, org.name, created.id);
  });

  it('on resend, with the same headers', async () => {
    const { admin, org } = await orgOfInviter({ username: 'alice' });
    const { address, invitation } = await inviteAndCheckEnvelope(admin, org.name);

    const response = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token, headers: evilHeaders });

    expect(response.status, response.text).toBe(200);
    const emails = await expectExactlyEmails(stack.sesEndpoint, [address], 2, 0);
    for (const email of emails) {
      expectSafeEnvelope(email, address);
      expectOnlyTheLink(email, org.name, invitation.id);
    }
  });
});

// A sanity check of the name rule the tests above rely on: a plain name still works.
describe('control', () => {
  it('a plain organization name is accepted and appears in the link as is', async () => {
    const name = uniqueOrgName('plain');
    const { admin } = await orgOfInviter({ username: 'alice' });
    await createOrganization(stack, admin, { name });

    const { email, invitation } = await inviteAndCheckEnvelope(admin, name);

    expectOnlyTheLink(email, name, invitation.id);
  });
});
