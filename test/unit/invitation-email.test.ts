/**
 * The invitation email as pure text (subject, HTML, text), SES bounce/complaint notifications
 * reduced to feedback, and SES error classification.
 */
import {
  AccountSuspendedException,
  BadRequestException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendingPausedException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { parseSesFeedback } from '../../shared/adapters/ses/feedback.ts';
import { classifySesError } from '../../shared/adapters/ses/mailer.ts';
import {
  escapeHtml,
  invitationLink,
  renderInvitationEmail,
  type InvitationEmailInput,
} from '../../shared/domain/invitation-email.ts';
import { MailerError } from '../../shared/ports.ts';

const INVITATION_ID = '3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f';
/** 2026-12-05T14:03:00Z */
const EXPIRES_AT = Date.UTC(2026, 11, 5, 14, 3) / 1000;

function input(overrides: Partial<InvitationEmailInput> = {}): InvitationEmailInput {
  return {
    orgName: 'acme-labs',
    inviterName: 'alice',
    invitationId: INVITATION_ID,
    expiresAt: EXPIRES_AT,
    frontendUrl: 'https://app.jaqpot.org',
    brandName: 'Jaqpot',
    ...overrides,
  };
}

const render = (overrides: Partial<InvitationEmailInput> = {}) => renderInvitationEmail(input(overrides));

const occurrences = (text: string, part: string) => text.split(part).length - 1;

/** Control characters, including CR/LF, that must never reach a header. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Half of a surrogate pair: not a character, not encodable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// ---------------------------------------------------------------------------------------------

describe('renderInvitationEmail: content', () => {
  it('subject: "<inviter> invited you to join <org> on <brand>"', () => {
    expect(render().subject).toBe('alice invited you to join acme-labs on Jaqpot');
    expect(render({ brandName: 'Jaqpot Staging' }).subject).toBe('alice invited you to join acme-labs on Jaqpot Staging');
  });

  it('has both an HTML and a text part', () => {
    const email = render();
    expect(email.html).toMatch(/^<!doctype html>/i);
    expect(email.html).toContain('</html>');
    expect(email.text.length).toBeGreaterThan(0);
    expect(email.text).not.toMatch(/<\/?(p|a|strong|html|body)\b/);
  });

  it('links to FRONTEND_URL/dashboard/organizations/{orgName}/invitations/{id} in both parts', () => {
    const link = `https://app.jaqpot.org/dashboard/organizations/acme-labs/invitations/${INVITATION_ID}`;
    const email = render();
    expect(email.text).toContain(link);
    expect(email.html).toContain(`href="${link}"`);
    expect(email.html).toContain(`>${link}</a>`);
  });

  it.each([
    ['no trailing slash', 'https://app.jaqpot.org'],
    ['a trailing slash', 'https://app.jaqpot.org/'],
    ['several trailing slashes', 'https://app.jaqpot.org///'],
  ])('builds the link from a frontend URL with %s', (_, frontendUrl) => {
    expect(invitationLink({ frontendUrl, orgName: 'acme-labs', invitationId: INVITATION_ID })).toBe(
      `https://app.jaqpot.org/dashboard/organizations/acme-labs/invitations/${INVITATION_ID}`,
    );
  });

  it('keeps a path prefix of the frontend URL', () => {
    expect(invitationLink({ frontendUrl: 'https://example.org/jaqpot/', orgName: 'acme', invitationId: 'id-1' })).toBe(
      'https://example.org/jaqpot/dashboard/organizations/acme/invitations/id-1',
    );
  });

  it('URL-encodes the organization name and the invitation id as path segments', () => {
    const link = invitationLink({ frontendUrl: 'https://app.jaqpot.org', orgName: 'a b/c?d#e&f', invitationId: 'x/../y?z' });
    expect(link).toBe(
      'https://app.jaqpot.org/dashboard/organizations/a%20b%2Fc%3Fd%23e%26f/invitations/x%2F..%2Fy%3Fz',
    );
    const email = render({ orgName: 'a b/c?d#e&f', invitationId: 'x/../y?z' });
    expect(email.text).toContain(link);
    expect(email.html).toContain(`href="${link}"`);
  });

  it('states the expiry date (UTC) in both parts', () => {
    const email = render();
    for (const part of [email.text, email.html]) {
      expect(part).toMatch(/expires on [^.]*\b5 December 2026\b[^.]*\b14:03 UTC/);
    }
  });

  it('says who invited the recipient and that they can ignore the email, in both parts', () => {
    const email = render();
    expect(email.text).toContain(
      'You received this email because alice invited this address to acme-labs. If you were not expecting it, you can ignore this email.',
    );
    expect(email.html).toMatch(/You received this email because alice invited this address to acme-labs\.[^<]*you can ignore this email\./);
  });

  it('names inviter, organization and brand in the body', () => {
    const email = render();
    expect(email.text).toMatch(/^alice invited you to join the organization acme-labs on Jaqpot\./);
    expect(email.html).toContain('<strong>alice</strong> invited you to join the organization <strong>acme-labs</strong> on Jaqpot.');
  });
});

describe('renderInvitationEmail: hostile values', () => {
  const hostile = `Tom & "Jerry" <b>O'Neil</b>`;
  const escaped = 'Tom &amp; &quot;Jerry&quot; &lt;b&gt;O&#39;Neil&lt;/b&gt;';

  it.each([
    ['inviterName', 2],
    ['orgName', 2],
    ['brandName', 1],
  ] as const)('HTML-escapes %s (&, <, >, ", \') everywhere it appears in the HTML', (field, times) => {
    const email = render({ [field]: hostile });
    expect(email.html).not.toContain(hostile);
    expect(email.html).not.toContain('<b>');
    expect(email.html).not.toContain('"Jerry"');
    expect(email.html).not.toContain("O'Neil");
    expect(occurrences(email.html, escaped)).toBe(times);
  });

  it('escapes a script tag in the inviter name', () => {
    const email = render({ inviterName: '<script>alert(1)</script>' });
    expect(email.html).not.toMatch(/<script/i);
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('escapes the link inside the href attribute (a quote cannot end the attribute)', () => {
    const email = render({ frontendUrl: 'https://app.jaqpot.org/?a=1&b="x"' });
    expect(email.html).not.toContain('"x"');
    expect(email.html).toContain('href="https://app.jaqpot.org/?a=1&amp;b=&quot;x&quot;/dashboard/organizations/acme-labs/');
  });

  it.each([
    ['CR/LF', 'Eve\r\nBcc: victim@example.com'],
    ['LF', 'Eve\nX-Injected: 1'],
    ['CR', 'Eve\rX-Injected: 1'],
    ['NUL and tab', 'Eve\u0000\tAdmin'],
    ['DEL and C1 controls', 'Eve\u007f\u0085Admin'],
    ['Unicode line and paragraph separators', 'Eve\u2028Admin\u2029'],
  ])('removes %s from the subject (inviter and organization)', (_, value) => {
    for (const field of ['inviterName', 'orgName'] as const) {
      const { subject } = render({ [field]: value });
      expect(subject).not.toMatch(CONTROL);
      expect(subject).toMatch(/^[^\r\n]+ invited you to join [^\r\n]+ on Jaqpot$/);
    }
  });

  it('keeps the visible words of a multi-line inviter name on one line', () => {
    const email = render({ inviterName: 'Eve\r\nBcc: victim@example.com' });
    expect(email.subject).toBe('Eve Bcc: victim@example.com invited you to join acme-labs on Jaqpot');
    // The text body's first line also stays one line.
    expect(email.text.split('\n')[0]).toBe('Eve Bcc: victim@example.com invited you to join the organization acme-labs on Jaqpot.');
  });

  it('truncates a long inviter name in the subject', () => {
    const { subject } = render({ inviterName: 'x'.repeat(500) });
    expect(subject).toMatch(/^x+… invited you to join acme-labs on Jaqpot$/);
    expect(subject.indexOf('…')).toBeLessThanOrEqual(80);
    expect(subject.length).toBeLessThan(150);
  });

  it('truncates a long organization name in the subject', () => {
    const { subject } = render({ orgName: 'o'.repeat(300) });
    expect(subject).toMatch(/^alice invited you to join o+… on Jaqpot$/);
    expect(subject.length).toBeLessThan(150);
  });

  it('never cuts a character in half when truncating (emoji are two UTF-16 code units)', () => {
    const { subject } = render({ inviterName: '😀'.repeat(100) });
    expect(subject).toMatch(/^(😀)+… invited you to join acme-labs on Jaqpot$/);
    expect(subject).not.toMatch(LONE_SURROGATE);
  });

  it('leaves names of up to 80 characters whole', () => {
    const name = 'n'.repeat(80);
    expect(render({ inviterName: name }).subject).toBe(`${name} invited you to join acme-labs on Jaqpot`);
  });
});

describe('renderInvitationEmail: only verified identity names the inviter', () => {
  it('without a name (no preferred_username, no verified email) says "An admin of <org>", in subject, text and HTML', () => {
    const email = render({ inviterName: undefined });
    expect(email.subject).toBe('An admin of acme-labs invited you to join acme-labs on Jaqpot');
    expect(email.text.split('\n')[0]).toBe('An admin of acme-labs invited you to join the organization acme-labs on Jaqpot.');
    expect(email.text).toContain('because an admin of acme-labs invited this address to acme-labs.');
    expect(email.html).toContain('An admin of acme-labs invited you to join the organization <strong>acme-labs</strong>');
    expect(email.html).toContain('because an admin of acme-labs invited this address to acme-labs.');
  });

  it('a name made only of invisible characters is no name', () => {
    expect(render({ inviterName: '\u200b\u202e\u2066 ' }).subject).toBe('An admin of acme-labs invited you to join acme-labs on Jaqpot');
  });
});

describe('renderInvitationEmail: Unicode format characters (\\p{Cf})', () => {
  /** Format characters: bidi embeddings, overrides and isolates, zero-width space/joiners, word joiner, BOM, soft hyphen. */
  const FORMAT = /\p{Cf}/u;

  it('removes a bidi override from a username, so it cannot reorder what the reader sees', () => {
    // Rendered, "alice\u202Egro.topqaj@ytiruces" shows as "alicesecurity@jaqpot.org".
    const email = render({ inviterName: 'alice\u202Egro.topqaj@ytiruces' });
    expect(email.subject).toBe('alicegro.topqaj@ytiruces invited you to join acme-labs on Jaqpot');
    for (const part of [email.subject, email.text, email.html]) expect(part).not.toMatch(FORMAT);
  });

  it.each([
    ['zero-width space', '\u200b'],
    ['zero-width non-joiner', '\u200c'],
    ['zero-width joiner', '\u200d'],
    ['word joiner', '\u2060'],
    ['byte order mark', '\ufeff'],
    ['left-to-right isolate', '\u2066'],
    ['pop directional isolate', '\u2069'],
    ['right-to-left embedding', '\u202b'],
    ['soft hyphen', '\u00ad'],
  ])('removes a %s from the inviter and the organization in every part', (_, character) => {
    const email = render({ inviterName: `ad${character}min`, orgName: `ac${character}me` });
    expect(email.subject).toBe('admin invited you to join acme on Jaqpot');
    for (const part of [email.subject, email.text, email.html]) expect(part).not.toMatch(FORMAT);
  });

  it('removes them from the brand name too', () => {
    expect(render({ brandName: 'Jaq\u200bpot\u202e' }).subject).toBe('alice invited you to join acme-labs on Jaqpot');
  });
});

describe('renderInvitationEmail: the reminder (kind REMINDER)', () => {
  const reminder = (overrides: Partial<InvitationEmailInput> = {}) => render({ kind: 'REMINDER', ...overrides });

  it('subject: says it is a reminder, that the invitation expires soon, and when (UTC)', () => {
    expect(reminder().subject).toBe(
      'Reminder: your invitation to join acme-labs on Jaqpot expires soon, on Saturday, 5 December 2026 at 14:03 UTC',
    );
  });

  it('text and HTML say it expires soon and when, with the same link and who invited', () => {
    const email = reminder();
    for (const part of [email.text, email.html]) {
      expect(part).toContain('Reminder:');
      expect(part).toContain('The invitation expires soon, on Saturday, 5 December 2026 at 14:03 UTC');
      expect(part).toContain(invitationLink(input()));
      expect(part).toContain('alice');
    }
  });

  it('the invitation email itself does not say "soon" or "Reminder"', () => {
    const email = render({ kind: 'INVITATION' });
    expect(email).toEqual(render());
    expect(`${email.subject}${email.text}`).not.toMatch(/soon|Reminder/);
  });

  it('escapes hostile names in the reminder as in the invitation, and keeps its subject on one line', () => {
    const email = reminder({ inviterName: '<script>alert(1)</script>', orgName: 'evil\r\nBcc: x@example.com' });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.subject).not.toMatch(CONTROL);
  });
});

describe('renderInvitationEmail: layout', () => {
  it('puts the font on a wrapper element rather than on <body>, which some clients drop', () => {
    const { html } = render();
    expect(html).toMatch(/<body[^>]*>\s*<div style="[^"]*font-family: sans-serif/);
    expect(html).not.toMatch(/<body[^>]*font-family/);
  });

  it('lets the long link wrap anywhere', () => {
    const { html } = render();
    const link = invitationLink(input());
    expect(html).toContain(`<a href="${link}" style="overflow-wrap: anywhere; word-break: break-all;">${link}</a>`);
  });
});

describe('escapeHtml', () => {
  it.each([
    ['&', '&amp;'],
    ['<', '&lt;'],
    ['>', '&gt;'],
    ['"', '&quot;'],
    ["'", '&#39;'],
    ['<a href="x">Tom & Jerry\'s</a>', '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;'],
    ['&amp;', '&amp;amp;'],
    ['&lt;script&gt;', '&amp;lt;script&amp;gt;'],
    ['plain text, ümlauts and émojis 🎉', 'plain text, ümlauts and émojis 🎉'],
    ['', ''],
  ])('%j → %j', (raw, html) => {
    expect(escapeHtml(raw)).toBe(html);
  });
});

// ---------------------------------------------------------------------------------------------

describe('parseSesFeedback', () => {
  const mail = {
    timestamp: '2026-03-01T10:00:00.000Z',
    source: 'invitations@jaqpot.org',
    messageId: '0100018f-aaaa-bbbb-cccc-000000000001-000000',
    destination: ['bob@example.com'],
    commonHeaders: { from: ['invitations@jaqpot.org'], to: ['bob@example.com'], subject: 'alice invited you' },
    tags: {
      'ses:configuration-set': ['organization-invitations'],
      invitationId: [INVITATION_ID],
      orgId: ['42'],
      deliverySeq: ['1'],
    },
  };
  const permanentBounce = {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: 'bob@example.com', action: 'failed', status: '5.1.1' }],
  };
  const complaint = { complainedRecipients: [{ emailAddress: 'bob@example.com' }], complaintFeedbackType: 'abuse' };
  const parse = (notification: unknown) => parseSesFeedback(JSON.stringify(notification));
  const target = { orgId: 42, invitationId: INVITATION_ID, messageId: mail.messageId };

  it.each(['eventType', 'notificationType'])('a permanent bounce (%s payload) → BOUNCED', (typeField) => {
    expect(parse({ [typeField]: 'Bounce', bounce: permanentBounce, mail })).toEqual({
      ...target,
      status: 'BOUNCED',
      reason: 'The address bounced permanently (General).',
    });
  });

  it.each(['eventType', 'notificationType'])('a complaint (%s payload) → COMPLAINED', (typeField) => {
    expect(parse({ [typeField]: 'Complaint', complaint, mail })).toEqual({
      ...target,
      status: 'COMPLAINED',
      reason: 'The recipient marked the email as spam.',
    });
  });

  it.each(['NoEmail', 'Suppressed', 'OnAccountSuppressionList'])('names the bounce sub-type %s', (bounceSubType) => {
    expect(parse({ eventType: 'Bounce', bounce: { ...permanentBounce, bounceSubType }, mail })?.reason).toBe(
      `The address bounced permanently (${bounceSubType}).`,
    );
  });

  it.each([
    ['<script>alert(1)</script>'],
    ['General; DROP TABLE'],
    ['x'.repeat(41)],
    ['Mailbox Full'],
  ])('does not echo an unusual bounce sub-type %j', (bounceSubType) => {
    const feedback = parse({ eventType: 'Bounce', bounce: { ...permanentBounce, bounceSubType }, mail });
    expect(feedback?.status).toBe('BOUNCED');
    expect(feedback?.reason).toBe('The address bounced permanently (General).');
  });

  it('a permanent bounce without sub-type → General', () => {
    const { bounceSubType: _, ...bounce } = permanentBounce;
    expect(parse({ eventType: 'Bounce', bounce, mail })?.reason).toBe('The address bounced permanently (General).');
  });

  it.each([['Transient'], ['Undetermined'], [undefined]])('a bounce of type %s → undefined (SES retries those)', (bounceType) => {
    expect(parse({ eventType: 'Bounce', bounce: { ...permanentBounce, bounceType }, mail })).toBeUndefined();
  });

  it.each(['Send', 'Delivery', 'Reject', 'Open', 'Click', 'DeliveryDelay', 'RenderingFailure'])(
    'a %s event → undefined',
    (eventType) => {
      expect(parse({ eventType, mail })).toBeUndefined();
    },
  );

  it('a bounce without type field → undefined', () => {
    expect(parse({ bounce: permanentBounce, mail })).toBeUndefined();
  });

  it.each([
    ['no tags at all', { ...mail, tags: undefined }],
    ['no invitationId tag', { ...mail, tags: { orgId: ['42'] } }],
    ['no orgId tag', { ...mail, tags: { invitationId: [INVITATION_ID] } }],
    ['an empty invitationId tag', { ...mail, tags: { invitationId: [], orgId: ['42'] } }],
    ['a non-numeric orgId tag', { ...mail, tags: { invitationId: [INVITATION_ID], orgId: ['acme'] } }],
    ['a fractional orgId tag', { ...mail, tags: { invitationId: [INVITATION_ID], orgId: ['4.2'] } }],
    ['no messageId', { ...mail, messageId: undefined }],
  ])('a bounce with %s → undefined (another sender’s mail)', (_, mailObject) => {
    expect(parse({ eventType: 'Bounce', bounce: permanentBounce, mail: mailObject })).toBeUndefined();
    expect(parse({ eventType: 'Complaint', complaint, mail: mailObject })).toBeUndefined();
  });

  it('a notification without mail object → undefined', () => {
    expect(parse({ eventType: 'Bounce', bounce: permanentBounce })).toBeUndefined();
  });

  it.each([
    ['not JSON', 'this is not JSON'],
    ['truncated JSON', '{"eventType":"Bounce","mail":{"messageId"'],
    ['an empty string', ''],
    ['a JSON string', '"Bounce"'],
    ['a JSON number', '42'],
    ['a JSON array', '[{"eventType":"Bounce"}]'],
    ['an empty JSON object', '{}'],
  ])('a message that is %s → undefined', (_, message) => {
    expect(parseSesFeedback(message)).toBeUndefined();
  });

  // SNS delivers whatever was published to the topic; `null` is valid JSON but not a notification.
  it('a message that is JSON null → undefined (does not throw)', () => {
    expect(() => parseSesFeedback('null')).not.toThrow();
    expect(parseSesFeedback('null')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('classifySesError', () => {
  const $metadata = (httpStatusCode?: number) => ({ $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });
  /** An SDK-style service error by name (for names with no exception class in @aws-sdk/client-sesv2). */
  const serviceError = (name: string, httpStatusCode?: number, message = 'service message') =>
    Object.assign(new Error(message), { name, $fault: 'client', ...$metadata(httpStatusCode) });

  function classify(error: unknown): MailerError {
    const classified = classifySesError(error);
    expect(classified).toBeInstanceOf(MailerError);
    expect(classified.reason.length).toBeGreaterThan(0);
    return classified;
  }

  describe('retryable: throttling and transient faults', () => {
    it.each([
      ['TooManyRequestsException', new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...$metadata(429) })],
      ['LimitExceededException', new LimitExceededException({ message: 'limit', ...$metadata(400) })],
      ['ThrottlingException', serviceError('ThrottlingException', 400)],
      ['Throttling', serviceError('Throttling', 400)],
      ['InternalFailure', serviceError('InternalFailure', 500)],
      ['ServiceUnavailable', serviceError('ServiceUnavailable', 503)],
      ['TimeoutError', serviceError('TimeoutError')],
      ['RequestTimeout', serviceError('RequestTimeout', 408)],
    ])('%s', (_, error) => {
      const classified = classify(error);
      expect(classified.retryable).toBe(true);
      expect(classified.reason).toBe('SES was unavailable or throttled the request.');
    });

    it.each([500, 502, 503, 504, 429])('any error with HTTP status %i', (status) => {
      expect(classify(serviceError('SomethingNew', status)).retryable).toBe(true);
    });

    it.each([
      ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })],
      ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
      ['ENOTFOUND', Object.assign(new Error('getaddrinfo ENOTFOUND email.us-east-1.amazonaws.com'), { code: 'ENOTFOUND' })],
    ])('a network error (%s)', (_, error) => {
      expect(classify(error).retryable).toBe(true);
    });
  });

  describe('permanent: about the message, the identity or the account', () => {
    it.each([
      ['MessageRejected', new MessageRejected({ message: 'Email address is not verified.', ...$metadata(400) }), /rejected/i],
      [
        'MailFromDomainNotVerifiedException',
        new MailFromDomainNotVerifiedException({ message: 'not verified', ...$metadata(400) }),
        /not verified/i,
      ],
      ['AccountSuspendedException', new AccountSuspendedException({ message: 'suspended', ...$metadata(400) }), /suspended/i],
      ['SendingPausedException', new SendingPausedException({ message: 'paused', ...$metadata(400) }), /paused/i],
      ['NotFoundException', new NotFoundException({ message: 'no such configuration set', ...$metadata(404) }), /does not exist/i],
      ['BadRequestException', new BadRequestException({ message: 'bad', ...$metadata(400) }), /invalid/i],
    ])('%s', (_, error, reason) => {
      const classified = classify(error);
      expect(classified.retryable).toBe(false);
      expect(classified.reason).toMatch(reason);
    });

    it('MessageRejected about the suppression list names the suppression list', () => {
      const error = new MessageRejected({
        message: 'Email address is on the suppression list for your account.',
        ...$metadata(400),
      });
      const classified = classify(error);
      expect(classified.retryable).toBe(false);
      expect(classified.reason).toBe('The recipient is on the SES account suppression list.');
    });

    it('never passes the raw SDK message on as the reason', () => {
      const secret = 'arn:aws:ses:us-east-1:123456789012:identity/internal.example — internal detail';
      for (const error of [
        new MessageRejected({ message: secret, ...$metadata(400) }),
        new AccountSuspendedException({ message: secret, ...$metadata(400) }),
        serviceError('SomethingNew', 400, secret),
        serviceError('ThrottlingException', 400, secret),
      ]) {
        expect(classify(error).reason).not.toContain(secret);
      }
    });

    it('an unknown 4xx error is permanent', () => {
      const classified = classify(serviceError('InvalidParameterValue', 400));
      expect(classified.retryable).toBe(false);
      expect(classified.reason).toBe('SES refused the message.');
    });

    it('a permanent name stays permanent whatever the status', () => {
      expect(classify(new SendingPausedException({ message: 'paused', ...$metadata(500) })).retryable).toBe(false);
    });
  });
});
