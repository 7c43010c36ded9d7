import { describe, expect, it } from 'vitest';
import {
  MAX_EMAILS_PER_REQUEST,
  decideAnswer,
  decideDelivery,
  decideResend,
  decideRevoke,
  explainLostAnswer,
  explainLostResend,
  explainLostRevoke,
  revokedInvitationTtl,
  expirationDate,
  answeredInvitationTtl,
  invitationTtl,
  isExpired,
  isPastRetention,
  isLive,
  matchesStatusFilter,
  newInvitation,
  type Invitation,
  type InvitationStatus,
  type InvitationStatusFilter,
  type InvitationTimings,
} from '../../shared/domain/invitation.ts';
import { isInvitee } from '../../shared/domain/access.ts';
import { parseAnswer, parseInvitationRequest } from '../../shared/http/bodies.ts';
import { toInvitationView } from '../../shared/http/views.ts';
import { caller, expectDomainError } from './helpers.ts';

const TIMINGS: InvitationTimings = { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 };
/** 2023-11-14T22:13:20.000Z */
const EXPIRES_AT = 1_700_000_000;
const BEFORE_EXPIRY_MS = EXPIRES_AT * 1000 - 1;
const AT_EXPIRY_MS = EXPIRES_AT * 1000;
const WELL_BEFORE_MS = (EXPIRES_AT - 3600) * 1000;

function invitation(overrides: Partial<Invitation> = {}): Invitation {
  return {
    id: '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10',
    orgId: 42,
    orgName: 'acme',
    userEmail: 'Bob.Smith@Example.com',
    emailNormalized: 'bob.smith@example.com',
    status: 'PENDING',
    associationType: 'MEMBER',
    expiresAt: EXPIRES_AT,
    createdAt: '2023-11-07T22:13:20.000Z',
    invitedBy: 'admin-1',
    inviterName: 'alice',
    deliverySeq: 1,
    deliveredSeq: 0,
    emailRequestedAt: '2023-11-07T22:13:20.000Z',
    emailStatus: 'PENDING',
    sendCount: 0,
    ...overrides,
  };
}

/** The fixture after its first email went out (SES accepted it). */
const SENT: Partial<Invitation> = {
  deliveredSeq: 1,
  emailStatus: 'SENT',
  sendCount: 1,
  lastSentAt: '2023-11-07T22:13:21.000Z',
  messageId: 'ses-message-1',
};

const invitee = (overrides = {}) => caller({ userId: 'bob', email: 'bob.smith@example.com', ...overrides });
const stranger = (overrides = {}) => caller({ userId: 'eve', email: 'eve@example.com', ...overrides });

describe('parseInvitationRequest', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', [{ emails: ['a@example.com'] }]],
    ['a string', '{"emails":["a@example.com"]}'],
    ['a number', 42],
    ['a boolean', true],
  ])('rejects a body that is %s', (_name, body) => {
    expectDomainError(() => parseInvitationRequest(body), 'INVALID_INPUT', /JSON object/);
  });

  it.each([
    ['missing', {}],
    ['null', { emails: null }],
    ['a string', { emails: 'a@example.com' }],
    ['an object', { emails: { 0: 'a@example.com' } }],
    ['a number', { emails: 1 }],
  ])('rejects "emails" that is %s', (_name, body) => {
    expectDomainError(() => parseInvitationRequest(body), 'INVALID_INPUT', /"emails" must be an array/);
  });

  it('rejects an empty list', () => {
    expectDomainError(() => parseInvitationRequest({ emails: [] }), 'INVALID_INPUT', /at least one/);
  });

  it('rejects 11 addresses', () => {
    const emails = Array.from({ length: 11 }, (_, i) => `user${i}@example.com`);
    expectDomainError(() => parseInvitationRequest({ emails }), 'INVALID_INPUT', /at most 10/);
  });

  it('counts entries before de-duplication (11 copies of one address are refused)', () => {
    const emails = Array.from({ length: 11 }, () => 'same@example.com');
    expectDomainError(() => parseInvitationRequest({ emails }), 'INVALID_INPUT', /at most 10/);
  });

  it('accepts exactly 10 addresses, in order', () => {
    expect(MAX_EMAILS_PER_REQUEST).toBe(10);
    const emails = Array.from({ length: 10 }, (_, i) => `user${i}@example.com`);
    const parsed = parseInvitationRequest({ emails });
    expect(parsed.map((e) => e.address)).toEqual(emails);
  });

  it('accepts a single address and returns it with its normalized form', () => {
    expect(parseInvitationRequest({ emails: ['Alice@Example.COM'] })).toEqual([
      { address: 'Alice@Example.COM', normalized: 'alice@example.com' },
    ]);
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { email: 'a@example.com' }],
    ['an array', ['a@example.com']],
    ['a boolean', false],
  ])('rejects an entry that is %s, naming its index', (_name, entry) => {
    expectDomainError(
      () => parseInvitationRequest({ emails: ['ok@example.com', 'fine@example.com', entry] }),
      'INVALID_INPUT',
      'emails[2] must be a string.',
    );
  });

  it.each([
    ['no @', 'not-an-email'],
    ['empty', ''],
    ['only spaces', '   '],
    ['trailing CRLF', 'bob@example.com\r\n'],
    ['Cyrillic lookalike', 'b\u043eb@example.com'],
    ['IP literal', 'bob@[127.0.0.1]'],
  ])('rejects an invalid address (%s), naming its index', (_name, entry) => {
    expectDomainError(
      () => parseInvitationRequest({ emails: ['ok@example.com', entry, 'fine@example.com'] }),
      'INVALID_INPUT',
      'emails[1] is not a valid email address.',
    );
  });

  it('reports the first bad entry', () => {
    expectDomainError(
      () => parseInvitationRequest({ emails: ['ok@example.com', 'bad-one', 'bad-two'] }),
      'INVALID_INPUT',
      'emails[1] is not a valid email address.',
    );
  });

  it('trims surrounding spaces and tabs from each address', () => {
    expect(parseInvitationRequest({ emails: [' \tBob@Example.com\t ', '  carol@example.com'] })).toEqual([
      { address: 'Bob@Example.com', normalized: 'bob@example.com' },
      { address: 'carol@example.com', normalized: 'carol@example.com' },
    ]);
  });

  it('collapses case-insensitive duplicates to the first spelling, keeping first-seen order', () => {
    const parsed = parseInvitationRequest({
      emails: ['Bob@Example.com', 'carol@example.com', 'bob@example.com', ' BOB@EXAMPLE.COM ', 'Carol@Example.com'],
    });
    expect(parsed).toEqual([
      { address: 'Bob@Example.com', normalized: 'bob@example.com' },
      { address: 'carol@example.com', normalized: 'carol@example.com' },
    ]);
  });

  it('does not treat a lookalike-free but different address as a duplicate', () => {
    const parsed = parseInvitationRequest({ emails: ['bob@example.com', 'bob+1@example.com', 'bob@example.co'] });
    expect(parsed).toHaveLength(3);
  });

  it('ignores other body fields', () => {
    expect(parseInvitationRequest({ emails: ['a@example.com'], orgId: 7, extra: true })).toEqual([
      { address: 'a@example.com', normalized: 'a@example.com' },
    ]);
  });
});

describe('newInvitation', () => {
  const nowMs = 1_700_000_000_999; // 2023-11-14T22:13:20.999Z
  const admin = caller({ userId: 'admin-1', username: 'alice', email: 'alice@example.com' });
  const created = newInvitation(
    {
      id: 'f3c1a1d2-0000-4000-8000-000000000001',
      org: { id: 42, name: 'acme' },
      email: { address: 'Bob@Example.com', normalized: 'bob@example.com' },
      inviter: admin,
    },
    nowMs,
    TIMINGS,
  );
  const invitedBy = (inviter: Parameters<typeof newInvitation>[0]['inviter']) =>
    newInvitation({ id: 'x', org: { id: 1, name: 'org' }, email: { address: 'a@b.co', normalized: 'a@b.co' }, inviter }, 0, TIMINGS);

  it('creates a PENDING invitation for the given org and address, with its first email requested', () => {
    expect(created).toEqual({
      id: 'f3c1a1d2-0000-4000-8000-000000000001',
      orgId: 42,
      orgName: 'acme',
      userEmail: 'Bob@Example.com',
      emailNormalized: 'bob@example.com',
      status: 'PENDING',
      associationType: 'MEMBER',
      expiresAt: 1_700_000_000 + 604_800,
      lifetimeSeconds: 604_800,
      createdAt: '2023-11-14T22:13:20.999Z',
      invitedBy: 'admin-1',
      inviterName: 'alice',
      deliverySeq: 1,
      deliveredSeq: 0,
      emailRequestedAt: '2023-11-14T22:13:20.999Z',
      emailStatus: 'PENDING',
      sendCount: 0,
    });
  });

  it('computes expiresAt as floor(now / 1000) + expirySeconds', () => {
    expect(created.expiresAt).toBe(Math.floor(nowMs / 1000) + TIMINGS.expirySeconds);
    const other = newInvitation(
      { id: 'x', org: { id: 1, name: 'org' }, email: { address: 'a@b.co', normalized: 'a@b.co' }, inviter: caller({ userId: 'u' }) },
      5_999,
      { expirySeconds: 10, retentionSeconds: 1, answeredRetentionSeconds: 1, reminderBeforeSeconds: 0 },
    );
    expect(other.expiresAt).toBe(15);
  });

  it("records the inviter's user id and names them by preferred_username, else verified email", () => {
    expect(invitedBy(caller({ userId: 'u-1', username: 'alice', email: 'alice@example.com' }))).toMatchObject({
      invitedBy: 'u-1',
      inviterName: 'alice',
    });
    expect(invitedBy(caller({ userId: 'u-2', username: undefined, email: 'Carol@Example.com' }))).toMatchObject({
      invitedBy: 'u-2',
      inviterName: 'Carol@Example.com',
    });
    expect(invitedBy(caller({ userId: 'u-3', username: undefined, email: undefined })).inviterName).toBeUndefined();
  });

  it('never names the inviter by an unverified email (anyone can claim security@jaqpot.org)', () => {
    const unverified = caller({ userId: 'u-4', username: undefined, email: 'security@jaqpot.org', emailVerified: false });
    expect(invitedBy(unverified).inviterName).toBeUndefined();
    // A preferred_username is the identity provider's own: it names them whatever the email.
    expect(invitedBy({ ...unverified, username: 'mallory' }).inviterName).toBe('mallory');
    // A blank preferred_username is no name.
    expect(invitedBy(caller({ username: '  ', email: 'x@example.com', emailVerified: false })).inviterName).toBeUndefined();
  });

  it('has no answer fields yet', () => {
    expect(created).not.toHaveProperty('userId');
    expect(created).not.toHaveProperty('respondedAt');
  });

  it('has no delivery outcome yet: nothing sent, no error, no SES message id', () => {
    expect(created.sendCount).toBe(0);
    expect(created.deliveredSeq).toBeLessThan(created.deliverySeq);
    for (const field of ['lastSentAt', 'lastError', 'messageId']) expect(created).not.toHaveProperty(field);
  });

  it('is live right after creation and expires exactly expirySeconds later (at second precision)', () => {
    expect(isLive(created, nowMs)).toBe(true);
    expect(isExpired(created, created.expiresAt * 1000 - 1)).toBe(false);
    expect(isExpired(created, created.expiresAt * 1000)).toBe(true);
  });
});

describe('isExpired / isLive', () => {
  it.each([
    ['PENDING', WELL_BEFORE_MS, false, true],
    ['PENDING', BEFORE_EXPIRY_MS, false, true],
    ['PENDING', AT_EXPIRY_MS, true, false],
    ['PENDING', AT_EXPIRY_MS + 1, true, false],
    ['ACCEPTED', WELL_BEFORE_MS, false, false],
    ['ACCEPTED', AT_EXPIRY_MS, false, false],
    ['ACCEPTED', AT_EXPIRY_MS + 86_400_000, false, false],
    ['REJECTED', WELL_BEFORE_MS, false, false],
    ['REJECTED', AT_EXPIRY_MS, false, false],
    ['REJECTED', AT_EXPIRY_MS + 86_400_000, false, false],
  ] as const)('%s at %d ms: expired=%s, live=%s', (status, nowMs, expired, live) => {
    const inv = { status, expiresAt: EXPIRES_AT };
    expect(isExpired(inv, nowMs)).toBe(expired);
    expect(isLive(inv, nowMs)).toBe(live);
  });
});

describe('matchesStatusFilter', () => {
  const cases: Array<[string, Invitation, number, InvitationStatusFilter[]]> = [
    ['live PENDING', invitation({ status: 'PENDING' }), BEFORE_EXPIRY_MS, ['PENDING']],
    ['expired PENDING', invitation({ status: 'PENDING' }), AT_EXPIRY_MS, ['EXPIRED']],
    ['ACCEPTED before expiry', invitation({ status: 'ACCEPTED' }), BEFORE_EXPIRY_MS, ['ACCEPTED']],
    ['ACCEPTED after expiry', invitation({ status: 'ACCEPTED' }), AT_EXPIRY_MS + 1000, ['ACCEPTED']],
    ['REJECTED before expiry', invitation({ status: 'REJECTED' }), BEFORE_EXPIRY_MS, ['REJECTED']],
    ['REJECTED after expiry', invitation({ status: 'REJECTED' }), AT_EXPIRY_MS + 1000, ['REJECTED']],
  ];
  const ALL: InvitationStatusFilter[] = ['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'];

  it.each(cases.flatMap(([name, inv, nowMs, matching]) => ALL.map((filter) => [name, filter, inv, nowMs, matching.includes(filter)] as const)))(
    '%s with filter %s',
    (_name, filter, inv, nowMs, expected) => {
      expect(matchesStatusFilter(inv, filter, nowMs)).toBe(expected);
    },
  );

  it('puts every invitation in exactly one filter', () => {
    for (const [, inv, nowMs] of cases) {
      expect(ALL.filter((filter) => matchesStatusFilter(inv, filter, nowMs))).toHaveLength(1);
    }
  });
});

describe('invitationTtl', () => {
  it('keeps the item for the retention period after expiry', () => {
    expect(invitationTtl(EXPIRES_AT, TIMINGS)).toBe(EXPIRES_AT + 2_592_000);
    expect(invitationTtl(100, { expirySeconds: 1, retentionSeconds: 5, answeredRetentionSeconds: 1, reminderBeforeSeconds: 0 })).toBe(105);
  });
});

describe('answeredInvitationTtl and isPastRetention', () => {
  it('keeps an answered invitation for the answered retention (default one year) after the answer', () => {
    expect(answeredInvitationTtl(1_700_000_000_999, TIMINGS)).toBe(1_700_000_000 + 31_536_000);
    expect(answeredInvitationTtl(5_500, { expirySeconds: 1, retentionSeconds: 1, answeredRetentionSeconds: 7, reminderBeforeSeconds: 0 })).toBe(12);
  });

  it('treats an item as gone from the second its TTL is reached, and an item without TTL as kept', () => {
    expect(isPastRetention(100, 99_999)).toBe(false);
    expect(isPastRetention(100, 100_000)).toBe(true);
    expect(isPastRetention(undefined, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('expirationDate', () => {
  it('is the ISO form of expiresAt (epoch seconds)', () => {
    expect(expirationDate({ expiresAt: EXPIRES_AT })).toBe('2023-11-14T22:13:20.000Z');
  });
});

describe('isInvitee', () => {
  const inv = invitation();

  it.each([
    ['exact normalized email', 'bob.smith@example.com'],
    ['different case', 'BOB.SMITH@EXAMPLE.COM'],
    ['the spelling the admin typed', 'Bob.Smith@Example.com'],
  ])('matches the %s', (_name, email) => {
    expect(isInvitee(inv, caller({ email }))).toBe(true);
  });

  it.each([
    ['no email', undefined],
    ['empty email', ''],
    ['another address', 'eve@example.com'],
    ['a plus-tag variant', 'bob.smith+x@example.com'],
    ['a trailing space', 'bob.smith@example.com '],
    ['a leading space', ' bob.smith@example.com'],
    ['a trailing tab', 'bob.smith@example.com\t'],
    ['a trailing LF', 'bob.smith@example.com\n'],
    ['a Cyrillic о lookalike', 'b\u043eb.smith@example.com'],
    ['a Cyrillic а lookalike in the domain', 'bob.smith@ex\u0430mple.com'],
    ['a dotless-i / dotted-I pair', 'bob.smIth@example.com'.replace('I', '\u0130')],
    ['a fullwidth lookalike', 'bob.smith@example.\uff43om'],
  ])('does not match %s', (_name, email) => {
    expect(isInvitee(inv, caller({ email }))).toBe(false);
  });

  // U+212A KELVIN SIGN lower-cases to ASCII "k" with String#toLowerCase.
  it('does not match a Kelvin-sign (U+212A) lookalike of "k"', () => {
    const kate = invitation({ userEmail: 'kate@example.com', emailNormalized: 'kate@example.com' });
    expect(isInvitee(kate, caller({ email: '\u212Aate@example.com' }))).toBe(false);
  });

  it('ignores user id and admin role: only the email counts', () => {
    expect(isInvitee(inv, caller({ email: 'eve@example.com', isRealmAdmin: true }))).toBe(false);
    expect(isInvitee(inv, caller({ userId: 'anything', email: 'bob.smith@example.com' }))).toBe(true);
  });
});

describe('parseAnswer', () => {
  it.each(['PENDING', 'ACCEPTED', 'REJECTED'] as const)('reads status %s', (status) => {
    expect(parseAnswer({ status })).toBe(status);
  });

  it('ignores every other field', () => {
    expect(parseAnswer({ status: 'ACCEPTED', id: 'x', userEmail: 'eve@example.com', expirationDate: 'never' })).toBe(
      'ACCEPTED',
    );
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', ['ACCEPTED']],
    ['a string', 'ACCEPTED'],
    ['a number', 1],
  ])('rejects a body that is %s', (_name, body) => {
    expectDomainError(() => parseAnswer(body), 'INVALID_INPUT', /JSON object/);
  });

  it.each([
    ['missing', {}],
    ['lower case', { status: 'accepted' }],
    ['EXPIRED (not an answer)', { status: 'EXPIRED' }],
    ['padded', { status: ' ACCEPTED' }],
    ['a number', { status: 1 }],
    ['null', { status: null }],
    ['an array', { status: ['ACCEPTED'] }],
    ['empty', { status: '' }],
  ])('rejects a status that is %s', (_name, body) => {
    expectDomainError(() => parseAnswer(body), 'INVALID_INPUT', '"status" must be one of PENDING, ACCEPTED, REJECTED.');
  });
});

describe('decideAnswer', () => {
  const pending = invitation();

  it.each(['ACCEPTED', 'REJECTED'] as const)('lets the verified invitee answer %s', (requested) => {
    expect(decideAnswer(pending, invitee(), requested, BEFORE_EXPIRY_MS)).toEqual({ kind: 'answer', status: requested });
  });

  it('leaves the invitation unchanged when PENDING is requested', () => {
    expect(decideAnswer(pending, invitee(), 'PENDING', WELL_BEFORE_MS)).toEqual({ kind: 'unchanged' });
  });

  it('matches the invitee case-insensitively', () => {
    expect(decideAnswer(pending, invitee({ email: 'Bob.Smith@EXAMPLE.com' }), 'ACCEPTED', WELL_BEFORE_MS)).toEqual({
      kind: 'answer',
      status: 'ACCEPTED',
    });
  });

  it('answers NOT_FOUND for an unknown invitation', () => {
    expectDomainError(() => decideAnswer(undefined, invitee(), 'ACCEPTED', WELL_BEFORE_MS), 'NOT_FOUND');
  });

  it.each([
    ['another user', stranger()],
    ['a realm admin who is not the invitee', stranger({ isRealmAdmin: true })],
    ['an unverified non-invitee (no hint that the id exists)', stranger({ emailVerified: false })],
    ['a caller without email', caller({ email: undefined })],
    ['a lookalike of the invitee', invitee({ email: 'b\u043eb.smith@example.com' })],
  ])('answers NOT_FOUND to %s', (_name, who) => {
    expectDomainError(() => decideAnswer(pending, who, 'ACCEPTED', WELL_BEFORE_MS), 'NOT_FOUND', 'Invitation not found.');
  });

  // Impact of the U+212A case-folding issue: a verified "\u212Aate@..." account could answer kate's invitation.
  it('does not let a Kelvin-sign (U+212A) lookalike answer the invitation', () => {
    const kate = invitation({ userEmail: 'kate@example.com', emailNormalized: 'kate@example.com' });
    expectDomainError(
      () => decideAnswer(kate, caller({ userId: 'mallory', email: '\u212Aate@example.com' }), 'ACCEPTED', WELL_BEFORE_MS),
      'NOT_FOUND',
    );
  });

  it('refuses the invitee with an unverified email', () => {
    expectDomainError(
      () => decideAnswer(pending, invitee({ emailVerified: false }), 'ACCEPTED', WELL_BEFORE_MS),
      'EMAIL_NOT_VERIFIED',
    );
  });

  it('checks email verification before the invitation state', () => {
    expectDomainError(
      () => decideAnswer(invitation({ status: 'ACCEPTED' }), invitee({ emailVerified: false }), 'REJECTED', AT_EXPIRY_MS),
      'EMAIL_NOT_VERIFIED',
    );
  });

  const answered: Array<[InvitationStatus, InvitationStatus]> = (['ACCEPTED', 'REJECTED'] as const).flatMap((current) =>
    (['PENDING', 'ACCEPTED', 'REJECTED'] as const).map((requested) => [current, requested] as [InvitationStatus, InvitationStatus]),
  );
  it.each(answered)('refuses to change an invitation that is already %s (requested %s)', (current, requested) => {
    expectDomainError(
      () => decideAnswer(invitation({ status: current }), invitee(), requested, WELL_BEFORE_MS),
      'INVALID_INPUT',
      `This invitation has already status ${current}.`,
    );
  });

  it('reports "already answered" rather than "expired" for an answered invitation past its expiry', () => {
    expectDomainError(
      () => decideAnswer(invitation({ status: 'REJECTED' }), invitee(), 'ACCEPTED', AT_EXPIRY_MS + 1000),
      'INVALID_INPUT',
      'This invitation has already status REJECTED.',
    );
  });

  it.each(['PENDING', 'ACCEPTED', 'REJECTED'] as const)(
    'refuses an expired invitation (requested %s), saying when it expired and that an admin can send a new one',
    (requested) => {
      const error = expectDomainError(() => decideAnswer(pending, invitee(), requested, AT_EXPIRY_MS), 'INVALID_INPUT');
      expect(error.message).toMatch(/expired/i);
      expect(error.message).toContain('2023-11-14T22:13:20.000Z');
      expect(error.message).toMatch(/admin/i);
      expect(error.message).toMatch(/send a new one/i);
    },
  );

  it('still allows an answer 1 ms before expiry', () => {
    expect(decideAnswer(pending, invitee(), 'ACCEPTED', BEFORE_EXPIRY_MS)).toEqual({ kind: 'answer', status: 'ACCEPTED' });
  });
});

describe('decideResend', () => {
  it('answers NOT_FOUND for an unknown invitation', () => {
    expectDomainError(() => decideResend(undefined, WELL_BEFORE_MS, TIMINGS), 'NOT_FOUND', 'Invitation not found.');
  });

  it.each(['ACCEPTED', 'REJECTED'] as const)('refuses an invitation that is already %s', (status) => {
    expectDomainError(
      () => decideResend(invitation({ status }), WELL_BEFORE_MS, TIMINGS),
      'INVALID_INPUT',
      `This invitation has already status ${status}.`,
    );
  });

  it('prefers "already answered" over "expired" for an answered invitation past its expiry', () => {
    expectDomainError(() => decideResend(invitation({ status: 'ACCEPTED' }), AT_EXPIRY_MS + 1, TIMINGS), 'INVALID_INPUT');
  });

  it.each([AT_EXPIRY_MS, AT_EXPIRY_MS + 86_400_000])('answers GONE for an expired invitation (now=%d)', (nowMs) => {
    const error = expectDomainError(() => decideResend(invitation(), nowMs, TIMINGS), 'GONE');
    expect(error.message).toContain('2023-11-14T22:13:20.000Z');
    expect(error.message).toMatch(/expired/i);
  });

  it('restarts the expiry from now and reports the time of the new email request', () => {
    const nowMs = BEFORE_EXPIRY_MS; // 2023-11-14T22:13:19.999Z
    expect(decideResend(invitation(), nowMs, TIMINGS)).toEqual({
      expiresAt: Math.floor(nowMs / 1000) + TIMINGS.expirySeconds,
      requestedAt: '2023-11-14T22:13:19.999Z',
    });
    expect(decideResend(invitation(), nowMs, TIMINGS).expiresAt).toBe(EXPIRES_AT - 1 + 604_800);
  });

  it('uses the configured expiry, not the previous one', () => {
    const result = decideResend(invitation({ expiresAt: EXPIRES_AT + 10 }), AT_EXPIRY_MS, { expirySeconds: 60, retentionSeconds: 1, answeredRetentionSeconds: 1, reminderBeforeSeconds: 0 });
    expect(result.expiresAt).toBe(EXPIRES_AT + 60);
  });

  it.each(['PENDING', 'SENT', 'FAILED', 'BOUNCED', 'COMPLAINED'] as const)(
    'allows a resend whatever the email status (%s)',
    (emailStatus) => {
      expect(decideResend(invitation({ ...SENT, emailStatus }), WELL_BEFORE_MS, TIMINGS)).toEqual({
        expiresAt: Math.floor(WELL_BEFORE_MS / 1000) + TIMINGS.expirySeconds,
        requestedAt: new Date(WELL_BEFORE_MS).toISOString(),
      });
    },
  );
});

describe('decideDelivery', () => {
  it('sends the first email request of a live invitation, with the invitation as read', () => {
    const inv = invitation();
    const decision = decideDelivery(inv, 1, WELL_BEFORE_MS);
    expect(decision).toEqual({ kind: 'send', invitation: inv });
    expect(decision.kind === 'send' && decision.invitation).toBe(inv);
  });

  it('sends the latest request after earlier ones were recorded', () => {
    const inv = invitation({ ...SENT, deliverySeq: 3, deliveredSeq: 2, emailStatus: 'PENDING', sendCount: 2 });
    expect(decideDelivery(inv, 3, WELL_BEFORE_MS)).toEqual({ kind: 'send', invitation: inv });
  });

  it('still sends 1 ms before expiry', () => {
    expect(decideDelivery(invitation(), 1, BEFORE_EXPIRY_MS)).toMatchObject({ kind: 'send' });
  });

  it('skips a request for an invitation that no longer exists', () => {
    expect(decideDelivery(undefined, 1, WELL_BEFORE_MS)).toEqual({ kind: 'skip', reason: expect.any(String) });
  });

  it.each([
    ['exactly this request', 1, 1, 1],
    ['a later request', 2, 2, 1],
    ['this request, replayed after a resend was also recorded', 3, 3, 2],
  ])('skips a request whose outcome is already recorded (%s)', (_name, deliverySeq, deliveredSeq, seq) => {
    const inv = invitation({ ...SENT, deliverySeq, deliveredSeq, sendCount: deliveredSeq });
    expect(decideDelivery(inv, seq, WELL_BEFORE_MS)).toEqual({ kind: 'skip', reason: expect.any(String) });
  });

  it.each([
    [2, 1],
    [5, 3],
  ])('skips a request superseded by a newer resend (deliverySeq %i > seq %i)', (deliverySeq, seq) => {
    const inv = invitation({ deliverySeq, deliveredSeq: 0 });
    expect(decideDelivery(inv, seq, WELL_BEFORE_MS)).toEqual({ kind: 'skip', reason: expect.any(String) });
  });

  it('gives the replay and the superseded request different reasons', () => {
    const replay = decideDelivery(invitation({ deliverySeq: 2, deliveredSeq: 1 }), 1, WELL_BEFORE_MS);
    const superseded = decideDelivery(invitation({ deliverySeq: 2, deliveredSeq: 0 }), 1, WELL_BEFORE_MS);
    expect(replay.kind).toBe('skip');
    expect(superseded.kind).toBe('skip');
    expect(replay).not.toEqual(superseded);
  });

  it.each(['ACCEPTED', 'REJECTED'] as const)('needs no email for an invitation already %s (NOT_NEEDED, not a failure)', (status) => {
    expect(decideDelivery(invitation({ status }), 1, WELL_BEFORE_MS)).toEqual({
      kind: 'not-needed',
      reason: 'the invitation was answered before its email went out',
    });
  });

  it('needs no email for a revoked invitation, expired or not (NOT_NEEDED, not a failure)', () => {
    for (const nowMs of [WELL_BEFORE_MS, AT_EXPIRY_MS + 1000]) {
      expect(decideDelivery(invitation({ status: 'REVOKED' }), 1, nowMs)).toEqual({
        kind: 'not-needed',
        reason: 'the invitation was revoked before its email went out',
      });
    }
  });

  it.each([AT_EXPIRY_MS, AT_EXPIRY_MS + 86_400_000])('abandons the email of an expired invitation (now=%d)', (nowMs) => {
    expect(decideDelivery(invitation(), 1, nowMs)).toEqual({
      kind: 'abandon',
      reason: 'Not sent: the invitation had expired.',
    });
  });

  it('reports "not needed" rather than "expired" for an answered invitation past its expiry', () => {
    expect(decideDelivery(invitation({ status: 'ACCEPTED' }), 1, AT_EXPIRY_MS + 1000)).toMatchObject({ kind: 'not-needed' });
  });

  it('skips rather than abandons a recorded or superseded request, whatever the invitation state', () => {
    const answered = invitation({ status: 'REJECTED', deliverySeq: 2, deliveredSeq: 1 });
    expect(decideDelivery(answered, 1, WELL_BEFORE_MS).kind).toBe('skip'); // recorded
    expect(decideDelivery(invitation({ deliverySeq: 2 }), 1, AT_EXPIRY_MS).kind).toBe('skip'); // superseded, expired
  });
});

describe('toInvitationView', () => {
  it('exposes exactly the public fields of a pending invitation whose email is not sent yet', () => {
    const view = toInvitationView(invitation());
    expect(view).toStrictEqual({
      id: '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10',
      userEmail: 'Bob.Smith@Example.com',
      status: 'PENDING',
      associationType: 'MEMBER',
      expirationDate: '2023-11-14T22:13:20.000Z',
      createdAt: '2023-11-07T22:13:20.000Z',
      invitedBy: 'admin-1',
      emailStatus: 'PENDING',
      sendCount: 0,
    });
    for (const key of ['userId', 'respondedAt', 'lastSentAt', 'lastError']) expect(Object.keys(view)).not.toContain(key);
  });

  it('shows lastSentAt once an email was sent', () => {
    expect(toInvitationView(invitation(SENT))).toStrictEqual({
      id: '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10',
      userEmail: 'Bob.Smith@Example.com',
      status: 'PENDING',
      associationType: 'MEMBER',
      expirationDate: '2023-11-14T22:13:20.000Z',
      createdAt: '2023-11-07T22:13:20.000Z',
      invitedBy: 'admin-1',
      emailStatus: 'SENT',
      sendCount: 1,
      lastSentAt: '2023-11-07T22:13:21.000Z',
    });
  });

  it('shows lastError when the last delivery failed', () => {
    const view = toInvitationView(invitation({ ...SENT, emailStatus: 'BOUNCED', lastError: 'The address bounced.' }));
    expect(view).toMatchObject({ emailStatus: 'BOUNCED', sendCount: 1, lastSentAt: SENT.lastSentAt, lastError: 'The address bounced.' });
    const failedFirst = toInvitationView(invitation({ emailStatus: 'FAILED', deliveredSeq: 1, lastError: 'Not sent.' }));
    expect(failedFirst).toMatchObject({ emailStatus: 'FAILED', sendCount: 0, lastError: 'Not sent.' });
    expect(Object.keys(failedFirst)).not.toContain('lastSentAt');
  });

  it('includes userId and respondedAt once answered', () => {
    const view = toInvitationView(
      invitation({ ...SENT, status: 'ACCEPTED', userId: 'bob', respondedAt: '2023-11-08T10:00:00.000Z', sendCount: 3 }),
    );
    expect(Object.keys(view).sort()).toEqual([
      'associationType',
      'createdAt',
      'emailStatus',
      'expirationDate',
      'id',
      'invitedBy',
      'lastSentAt',
      'respondedAt',
      'sendCount',
      'status',
      'userEmail',
      'userId',
    ]);
    expect(view).toMatchObject({ status: 'ACCEPTED', userId: 'bob', respondedAt: '2023-11-08T10:00:00.000Z', sendCount: 3 });
  });

  it('shows the status as stored, even when the pending invitation has expired', () => {
    expect(toInvitationView(invitation({ expiresAt: 1 })).status).toBe('PENDING');
    expect(toInvitationView(invitation({ expiresAt: 1 })).expirationDate).toBe('1970-01-01T00:00:01.000Z');
  });

  it('leaks no internal fields', () => {
    const internal = {
      ...invitation(SENT),
      PK: 'ORG#42',
      SK: 'INV#x',
      ttl: 1,
      GSI1PK: 'EMAIL#bob',
      GSI2PK: 'EMAIL#PENDING',
      GSI2SK: '2023-11-07T22:13:20.000Z',
    } as unknown as Invitation;
    const json = JSON.stringify(toInvitationView(internal));
    for (const key of [
      'orgId',
      'orgName',
      'emailNormalized',
      'expiresAt',
      'inviterName',
      'deliverySeq',
      'deliveredSeq',
      'emailRequestedAt',
      'messageId',
      'PK',
      'SK',
      'ttl',
      'GSI1PK',
      'GSI2PK',
      'GSI2SK',
    ]) {
      expect(json).not.toContain(`"${key}"`);
    }
    expect(json).not.toContain('bob.smith@example.com');
    expect(json).not.toContain('ses-message-1');
  });
});

describe('decideRevoke', () => {
  it('revokes a pending invitation, live or expired (it holds no clock)', () => {
    const pending = invitation();
    expect(decideRevoke(pending)).toBe(pending);
    const expired = invitation({ expiresAt: 1 });
    expect(decideRevoke(expired)).toBe(expired);
  });

  it.each(['ACCEPTED', 'REJECTED'] as const)('refuses a %s invitation with 400, in the resend wording', (status) => {
    expectDomainError(() => decideRevoke(invitation({ status })), 'INVALID_INPUT', `This invitation has already status ${status}.`);
  });

  it('answers a missing or already revoked invitation with the unknown-invitation 404', () => {
    expectDomainError(() => decideRevoke(undefined), 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => decideRevoke(invitation({ status: 'REVOKED' })), 'NOT_FOUND', 'Invitation not found.');
  });

  it('keeps a revoked invitation as long as an answered one', () => {
    expect(revokedInvitationTtl(1_700_000_000_500, TIMINGS)).toBe(1_700_000_000 + TIMINGS.answeredRetentionSeconds);
  });
});

describe('a revoked invitation is gone for the Jaqpot views', () => {
  it('answering or resending it is the unknown-invitation 404', () => {
    const revoked = invitation({ status: 'REVOKED' });
    expectDomainError(() => { throw explainLostAnswer(revoked, WELL_BEFORE_MS); }, 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => decideResend(revoked, WELL_BEFORE_MS, TIMINGS), 'NOT_FOUND', 'Invitation not found.');
  });

  it('no status filter matches it', () => {
    const revoked = invitation({ status: 'REVOKED' });
    for (const filter of ['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED'] as const) {
      expect(matchesStatusFilter(revoked, filter, WELL_BEFORE_MS)).toBe(false);
      expect(matchesStatusFilter(revoked, filter, AT_EXPIRY_MS + 1000)).toBe(false);
    }
  });

  it('a view never shows REVOKED: meeting one is a bug, not a response', () => {
    expect(() => toInvitationView(invitation({ status: 'REVOKED' }))).toThrow(/revoked invitation/);
  });
});

describe('explainLostAnswer / explainLostResend / explainLostRevoke (a conditional write lost to a concurrent one)', () => {
  it('explains with the state that won: answered, expired or gone', () => {
    expectDomainError(() => { throw explainLostAnswer(invitation({ status: 'ACCEPTED' }), WELL_BEFORE_MS); }, 'INVALID_INPUT', 'This invitation has already status ACCEPTED.');
    expect(explainLostAnswer(invitation(), AT_EXPIRY_MS).message).toMatch(/expired on 2023-11-14T22:13:20.000Z\. Ask an organization admin/);
    expectDomainError(() => { throw explainLostAnswer(undefined, WELL_BEFORE_MS); }, 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => { throw explainLostResend(invitation({ status: 'REJECTED' }), WELL_BEFORE_MS); }, 'INVALID_INPUT', 'This invitation has already status REJECTED.');
    expectDomainError(() => { throw explainLostResend(invitation(), AT_EXPIRY_MS); }, 'GONE');
    expectDomainError(() => { throw explainLostResend(undefined, WELL_BEFORE_MS); }, 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => { throw explainLostRevoke(invitation({ status: 'ACCEPTED' })); }, 'INVALID_INPUT', 'This invitation has already status ACCEPTED.');
    expectDomainError(() => { throw explainLostRevoke(undefined); }, 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => { throw explainLostRevoke(invitation({ status: 'REVOKED' })); }, 'NOT_FOUND', 'Invitation not found.');
  });

  it('answers a retryable 503 when the winning state would still allow the change', () => {
    expectDomainError(() => { throw explainLostAnswer(invitation(), WELL_BEFORE_MS); }, 'UNAVAILABLE', /changed while processing/);
    expectDomainError(() => { throw explainLostResend(invitation(), WELL_BEFORE_MS); }, 'UNAVAILABLE', /changed while processing/);
    expectDomainError(() => { throw explainLostRevoke(invitation()); }, 'UNAVAILABLE', /changed while processing/);
  });
});
