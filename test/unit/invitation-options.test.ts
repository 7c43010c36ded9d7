/** The invitation options of create (role, lifetime, link-only), the dry run's rules and the admins' link. */
import { describe, expect, it } from 'vitest';
import {
  classifyDryRun,
  decideDelivery,
  decideResend,
  isGuardLive,
  newInvitation,
  type InvitationTimings,
} from '../../shared/domain/invitation.ts';
import { fromInvitationItem } from '../../shared/adapters/dynamodb/items.ts';
import { parseCreateInvitationsRequest, parseDryRunRequest } from '../../shared/http/bodies.ts';
import { isDryRun } from '../../shared/http/params.ts';
import { toAdminInvitationView, toInvitationView } from '../../shared/http/views.ts';
import { caller, expectDomainError } from './helpers.ts';

const TIMINGS: InvitationTimings = { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 };
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;

const create = (options?: Parameters<typeof newInvitation>[3]) =>
  newInvitation(
    { id: 'inv-1', org: { id: 7, name: 'acme' }, email: { address: 'Bob@Example.com', normalized: 'bob@example.com' }, inviter: caller() },
    NOW_MS,
    TIMINGS,
    options,
  );

describe('newInvitation with options', () => {
  it('defaults: MEMBER, the configured lifetime, an email requested', () => {
    expect(create()).toMatchObject({
      associationType: 'MEMBER',
      lifetimeSeconds: 604_800,
      expiresAt: NOW_S + 604_800,
      emailStatus: 'PENDING',
      deliverySeq: 1,
    });
  });

  it('takes the role and its own lifetime', () => {
    expect(create({ associationType: 'ADMIN', expiresInSeconds: 3600, sendEmail: true })).toMatchObject({
      associationType: 'ADMIN',
      lifetimeSeconds: 3600,
      expiresAt: NOW_S + 3600,
    });
  });

  it('link-only: NOT_REQUESTED and no email request numbered', () => {
    expect(create({ associationType: 'MEMBER', expiresInSeconds: undefined, sendEmail: false })).toMatchObject({
      emailStatus: 'NOT_REQUESTED',
      deliverySeq: 0,
      deliveredSeq: 0,
    });
  });
});

describe('decideResend renews by the invitation own lifetime', () => {
  it('its stored lifetime', () => {
    const invitation = create({ associationType: 'MEMBER', expiresInSeconds: 7200, sendEmail: true });
    const later = NOW_MS + 3_600_000;
    expect(decideResend(invitation, later, TIMINGS).expiresAt).toBe(later / 1000 + 7200);
  });

  it('the configured one for invitations stored before lifetimes were kept', () => {
    const { lifetimeSeconds: _, ...old } = create();
    expect(decideResend(old, NOW_MS, TIMINGS).expiresAt).toBe(NOW_S + 604_800);
  });
});

describe('decideDelivery of a link-only invitation', () => {
  it('skips: no email was requested', () => {
    const linkOnly = create({ associationType: 'MEMBER', expiresInSeconds: undefined, sendEmail: false });
    expect(decideDelivery(linkOnly, 1, NOW_MS)).toEqual({ kind: 'skip', reason: 'no email requested' });
    expect(decideDelivery(linkOnly, 0, NOW_MS).kind).toBe('skip');
  });

  it('sends once a resend requested one', () => {
    const resent = { ...create({ associationType: 'MEMBER', expiresInSeconds: undefined, sendEmail: false }), emailStatus: 'PENDING' as const, deliverySeq: 1 };
    expect(decideDelivery(resent, 1, NOW_MS).kind).toBe('send');
  });
});

describe('stored invitations from before roles', () => {
  it('read as MEMBER', () => {
    const { associationType: _, ...item } = create();
    expect(fromInvitationItem(item).associationType).toBe('MEMBER');
  });
});

describe('isGuardLive', () => {
  it('until its expiresAt, exclusive', () => {
    expect(isGuardLive({ expiresAt: NOW_S + 1 }, NOW_MS)).toBe(true);
    expect(isGuardLive({ expiresAt: NOW_S }, NOW_MS)).toBe(false);
    expect(isGuardLive({ expiresAt: NOW_S - 60 }, NOW_MS)).toBe(false);
  });
});

describe('classifyDryRun', () => {
  it('member before invited, invalid with its reason, the rest INVITE, in order', () => {
    const email = (address: string) => ({ valid: { address, normalized: address.toLowerCase() } });
    expect(
      classifyDryRun(
        [email('New@x.io'), { invalid: 'nope', reason: 'Not a valid email address.' }, email('Both@x.io'), email('Pending@x.io')],
        new Set(['both@x.io']),
        new Set(['both@x.io', 'pending@x.io']),
      ),
    ).toEqual([
      { email: 'New@x.io', outcome: 'INVITE' },
      { email: 'nope', outcome: 'INVALID', reason: 'Not a valid email address.' },
      { email: 'Both@x.io', outcome: 'ALREADY_MEMBER' },
      { email: 'Pending@x.io', outcome: 'ALREADY_INVITED' },
    ]);
  });
});

describe('parsing the create request', () => {
  it('fills in the defaults', () => {
    expect(parseCreateInvitationsRequest({ emails: ['a@example.com'] }).options).toEqual({
      associationType: 'MEMBER',
      expiresInSeconds: undefined,
      sendEmail: true,
    });
  });

  it('reads the options', () => {
    expect(
      parseCreateInvitationsRequest({ emails: ['a@example.com'], associationType: 'ADMIN', expiresInSeconds: 2_592_000, sendEmail: false })
        .options,
    ).toEqual({ associationType: 'ADMIN', expiresInSeconds: 2_592_000, sendEmail: false });
  });

  it.each([
    [{ expiresInSeconds: 3599 }, /expiresInSeconds/],
    [{ expiresInSeconds: 2_592_001 }, /expiresInSeconds/],
    [{ expiresInSeconds: 3600.5 }, /expiresInSeconds/],
    [{ associationType: 'CREATOR' }, /associationType/],
    [{ sendEmail: 'true' }, /sendEmail/],
  ])('refuses %j', (options, message) => {
    expectDomainError(() => parseCreateInvitationsRequest({ emails: ['a@example.com'], ...options }), 'INVALID_INPUT', message);
  });

  it('a dry run reports invalid addresses in place and collapses duplicates to the first spelling', () => {
    expect(parseDryRunRequest({ emails: [' A@example.com ', 'bad', 'a@EXAMPLE.com', 'b@example.com'] }).entries).toEqual([
      { valid: { address: 'A@example.com', normalized: 'a@example.com' } },
      { invalid: 'bad', reason: 'Not a valid email address.' },
      { valid: { address: 'b@example.com', normalized: 'b@example.com' } },
    ]);
  });

  it('a dry run still refuses a bad shape or option', () => {
    expectDomainError(() => parseDryRunRequest({ emails: [1] }), 'INVALID_INPUT', /emails\[0\] must be a string/);
    expectDomainError(() => parseDryRunRequest({ emails: ['a@example.com'], sendEmail: 1 }), 'INVALID_INPUT', /sendEmail/);
  });

  it('dryRun is true or false', () => {
    expect(isDryRun({ dryRun: 'true' })).toBe(true);
    expect(isDryRun({ dryRun: 'false' })).toBe(false);
    expect(isDryRun({})).toBe(false);
    expectDomainError(() => isDryRun({ dryRun: 'TRUE' }), 'INVALID_INPUT', 'dryRun must be true or false.');
  });
});

describe('views', () => {
  it('carry associationType; only the admin view carries the link, with the current name', () => {
    const invitation = create({ associationType: 'ADMIN', expiresInSeconds: undefined, sendEmail: false });
    expect(toInvitationView(invitation)).toMatchObject({ associationType: 'ADMIN', emailStatus: 'NOT_REQUESTED' });
    expect(toInvitationView(invitation)).not.toHaveProperty('link');
    expect(toAdminInvitationView(invitation, { frontendUrl: 'https://app.example.com/', orgName: 'acme-renamed' }).link).toBe(
      'https://app.example.com/dashboard/organizations/acme-renamed/invitations/inv-1',
    );
  });
});
