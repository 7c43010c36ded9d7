import { describe, expect, it } from 'vitest';
import {
  inviteeAddress,
  isInvitee,
  adminAuthority,
  requireInvitationViewer,
  requireInvitee,
  requireMemberRemover,
  requireMemberRoleChanger,
  requireOrgAdmin,
  requireOrgVisible,
  type AccessFacts,
} from '../../shared/domain/access.ts';
import { newInvitation } from '../../shared/domain/invitation.ts';
import type { Membership, Organization } from '../../shared/domain/organization.ts';
import { caller, expectDomainError } from './helpers.ts';

const inv = newInvitation(
  {
    id: '7d1c3f5e-7b2a-4f7e-9c55-2f7f0c0d9a11',
    org: { id: 1, name: 'acme' },
    email: { address: 'Bob.Smith@example.com', normalized: 'bob.smith@example.com' },
    inviter: caller({ userId: 'alice' }),
  },
  1_700_000_000_000,
  { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 },
);
const invitee = (overrides = {}) => caller({ userId: 'bob', email: 'bob.smith@example.com', ...overrides });
const stranger = (overrides = {}) => caller({ userId: 'eve', email: 'eve@example.com', ...overrides });

function access(visibility: Organization['visibility'], membership?: Membership['associationType'], userId = 'eve'): AccessFacts {
  return {
    organization: {
      id: 1,
      name: 'acme',
      visibility,
      contactEmail: 'c@acme.io',
      creator: { id: 'alice' },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    },
    membership: membership && { orgId: 1, userId, associationType: membership },
  };
}
const adminAccess = () => access('PRIVATE', 'ADMIN');

describe('requireOrgVisible / requireOrgAdmin', () => {
  it('makes an invisible organization exactly an unknown one: same kind, same message', () => {
    for (const rule of [requireOrgVisible, requireOrgAdmin]) {
      const unknown = expectDomainError(() => rule(undefined, stranger()), 'NOT_FOUND', 'Organization not found.');
      const hidden = expectDomainError(() => rule(access('PRIVATE'), stranger()), 'NOT_FOUND');
      expect(hidden.message).toBe(unknown.message);
    }
  });

  it('answers 401 on admin routes to whoever may see the organization but is not its admin', () => {
    expectDomainError(() => requireOrgAdmin(access('PUBLIC'), stranger()), 'NOT_AUTHORIZED', 'Only organization admins can do this.');
    expectDomainError(() => requireOrgAdmin(access('PRIVATE', 'MEMBER'), stranger()), 'NOT_AUTHORIZED');
  });

  it('lets admins, the creator and realm admins through', () => {
    expect(requireOrgAdmin(adminAccess(), stranger()).organization.id).toBe(1);
    expect(requireOrgAdmin(access('PRIVATE'), caller({ userId: 'alice' })).organization.id).toBe(1);
    expect(requireOrgAdmin(access('PRIVATE'), stranger({ isRealmAdmin: true })).organization.id).toBe(1);
    expect(requireOrgVisible(access('PUBLIC'), stranger()).organization.id).toBe(1);
    expect(requireOrgVisible(access('PRIVATE', 'MEMBER'), stranger()).organization.id).toBe(1);
  });
});

describe('requireInvitationViewer', () => {
  it('returns the invitation to an org admin, whoever they are', () => {
    expect(requireInvitationViewer(inv, adminAccess(), stranger())).toBe(inv);
    expect(requireInvitationViewer(inv, adminAccess(), stranger({ emailVerified: false, email: undefined }))).toBe(inv);
  });

  it('returns the invitation to the invitee with a verified email, even of a PRIVATE organization they cannot see', () => {
    expect(requireInvitationViewer(inv, access('PRIVATE', undefined, 'bob'), invitee())).toBe(inv);
    expect(requireInvitationViewer(inv, undefined, invitee({ email: 'BOB.SMITH@example.COM' }))).toBe(inv);
  });

  it('refuses the invitee with an unverified email (EMAIL_NOT_VERIFIED)', () => {
    expectDomainError(() => requireInvitationViewer(inv, access('PUBLIC'), invitee({ emailVerified: false })), 'EMAIL_NOT_VERIFIED');
  });

  it('answers NOT_FOUND for an unknown invitation, even to an admin', () => {
    expectDomainError(() => requireInvitationViewer(undefined, adminAccess(), invitee()), 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => requireInvitationViewer(undefined, undefined, invitee()), 'NOT_FOUND', 'Invitation not found.');
  });

  it.each([
    ['another verified user', stranger()],
    ['another unverified user', stranger({ emailVerified: false })],
    ['a user without email', caller({ email: undefined })],
    ['a plain member', stranger()],
    ['a lookalike of the invitee', invitee({ email: 'b\u043eb.smith@example.com' })],
  ])('answers NOT_FOUND to %s, exactly like an unknown id or organization', (_name, who) => {
    const unknown = expectDomainError(() => requireInvitationViewer(undefined, undefined, who), 'NOT_FOUND');
    const hidden = expectDomainError(() => requireInvitationViewer(inv, access('PUBLIC', 'MEMBER'), who), 'NOT_FOUND');
    expect(hidden.message).toBe(unknown.message);
  });
});

describe('requireInvitee', () => {
  it('is the invitee with a verified email only: org admins included, others see 404', () => {
    expect(requireInvitee(inv, invitee())).toBe(inv);
    expectDomainError(() => requireInvitee(inv, caller({ userId: 'alice', isRealmAdmin: true })), 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => requireInvitee(undefined, invitee()), 'NOT_FOUND', 'Invitation not found.');
    expectDomainError(() => requireInvitee(inv, invitee({ emailVerified: false })), 'EMAIL_NOT_VERIFIED');
  });
});

describe('inviteeAddress ("my invitations")', () => {
  it('is the verified token email, normalized as isInvitee compares it; unverified: 1001; no email: none', () => {
    const spelled = invitee({ email: 'BOB.Smith@Example.COM' });
    expect(isInvitee(inv, spelled)).toBe(true);
    expect(inviteeAddress(spelled)).toBe(inv.emailNormalized);
    expectDomainError(() => inviteeAddress(invitee({ emailVerified: false })), 'EMAIL_NOT_VERIFIED');
    expect(inviteeAddress(caller({ userId: 'nobody', email: undefined, emailVerified: false }))).toBeUndefined();
  });
});

describe('requireMemberRemover / requireMemberRoleChanger', () => {
  const bob: Membership = { orgId: 1, userId: 'bob', associationType: 'MEMBER' };
  const alice: Membership = { orgId: 1, userId: 'alice', associationType: 'ADMIN' };
  /** The caller (eve) with `role`, acting on `target`. */
  const facts = (visibility: Organization['visibility'], role: Membership['associationType'] | undefined, target?: Membership) => ({
    ...access(visibility, role),
    target,
  });

  it('lets an org admin (ADMIN member, creator, realm admin) remove any member but the creator', () => {
    expect(requireMemberRemover(facts('PRIVATE', 'ADMIN', bob), 'bob', stranger())).toEqual({ target: bob, authority: { kind: 'membership', orgId: 1, userId: 'eve' } });
    expect(requireMemberRemover(facts('PRIVATE', undefined, bob), 'bob', caller({ userId: 'alice' }))).toEqual({ target: bob, authority: { kind: 'static' } });
    expect(requireMemberRemover(facts('PRIVATE', undefined, bob), 'bob', stranger({ isRealmAdmin: true }))).toEqual({ target: bob, authority: { kind: 'static' } });
    expectDomainError(() => requireMemberRemover(facts('PRIVATE', 'ADMIN', alice), 'alice', stranger()), 'INVALID_INPUT', 'The creator of an organization cannot be removed.');
  });

  it('lets any member leave, but not the creator', () => {
    const eve: Membership = { orgId: 1, userId: 'eve', associationType: 'MEMBER' };
    // Leaving rests on no authority: the removal itself requires the membership to exist.
    expect(requireMemberRemover(facts('PRIVATE', 'MEMBER', eve), 'eve', stranger())).toEqual({ target: eve, authority: undefined });
    expect(requireMemberRemover(facts('PRIVATE', 'ADMIN', { ...eve, associationType: 'ADMIN' }), 'eve', stranger()).authority).toBeUndefined();
    expectDomainError(
      () => requireMemberRemover(facts('PRIVATE', 'ADMIN', alice), 'alice', caller({ userId: 'alice' })),
      'INVALID_INPUT',
      'The creator of an organization cannot leave it.',
    );
  });

  it('answers 401 to a plain member removing someone else, before saying whether they are a member', () => {
    expectDomainError(() => requireMemberRemover(facts('PRIVATE', 'MEMBER', bob), 'bob', stranger()), 'NOT_AUTHORIZED');
    expectDomainError(() => requireMemberRemover(facts('PRIVATE', 'MEMBER'), 'nobody', stranger()), 'NOT_AUTHORIZED');
    expectDomainError(() => requireMemberRemover(facts('PUBLIC', undefined, bob), 'bob', stranger()), 'NOT_AUTHORIZED');
  });

  it('answers Member not found for a user who is not a member (leaving one is not in, too)', () => {
    expectDomainError(() => requireMemberRemover(facts('PRIVATE', 'ADMIN'), 'nobody', stranger()), 'NOT_FOUND', 'Member not found.');
    expectDomainError(() => requireMemberRemover(facts('PUBLIC', undefined), 'eve', stranger()), 'NOT_FOUND', 'Member not found.');
  });

  it('makes an invisible organization exactly an unknown one, for both rules', () => {
    for (const rule of [requireMemberRemover, requireMemberRoleChanger]) {
      expectDomainError(() => rule(undefined, 'eve', stranger()), 'NOT_FOUND', 'Organization not found.');
      expectDomainError(() => rule(facts('PRIVATE', undefined, bob), 'eve', stranger()), 'NOT_FOUND', 'Organization not found.');
      expectDomainError(() => rule(facts('PRIVATE', undefined, bob), 'bob', stranger()), 'NOT_FOUND', 'Organization not found.');
    }
  });

  it('lets only org admins change a role, never the creator\'s, and only of a member', () => {
    expect(requireMemberRoleChanger(facts('PRIVATE', 'ADMIN', bob), 'bob', stranger())).toEqual({ target: bob, authority: { kind: 'membership', orgId: 1, userId: 'eve' } });
    expect(requireMemberRoleChanger(facts('PRIVATE', undefined, bob), 'bob', stranger({ isRealmAdmin: true }))).toEqual({ target: bob, authority: { kind: 'static' } });
    expectDomainError(() => requireMemberRoleChanger(facts('PRIVATE', 'MEMBER', bob), 'bob', stranger()), 'NOT_AUTHORIZED');
    expectDomainError(() => requireMemberRoleChanger(facts('PRIVATE', 'MEMBER'), 'eve', stranger()), 'NOT_AUTHORIZED');
    expectDomainError(() => requireMemberRoleChanger(facts('PRIVATE', 'ADMIN', alice), 'alice', stranger()), 'INVALID_INPUT');
    expectDomainError(() => requireMemberRoleChanger(facts('PRIVATE', 'ADMIN'), 'nobody', stranger()), 'NOT_FOUND', 'Member not found.');
  });
});

describe('adminAuthority: what an admin write must re-check when it lands', () => {
  const { organization } = access('PRIVATE');
  it('is static for a realm admin and for the creator (nothing concurrent can take it away), even with an ADMIN membership', () => {
    expect(adminAuthority(organization, undefined, stranger({ isRealmAdmin: true }))).toEqual({ kind: 'static' });
    expect(adminAuthority(organization, { orgId: 1, userId: 'alice', associationType: 'ADMIN' }, caller({ userId: 'alice' }))).toEqual({ kind: 'static' });
    expect(adminAuthority(organization, access('PRIVATE', 'ADMIN').membership, stranger({ isRealmAdmin: true }))).toEqual({ kind: 'static' });
  });

  it('is the ADMIN membership for anyone else, and nothing for a MEMBER or a stranger', () => {
    expect(adminAuthority(organization, access('PRIVATE', 'ADMIN').membership, stranger())).toEqual({ kind: 'membership', orgId: 1, userId: 'eve' });
    expect(requireOrgAdmin(adminAccess(), stranger()).authority).toEqual({ kind: 'membership', orgId: 1, userId: 'eve' });
    expect(adminAuthority(organization, access('PRIVATE', 'MEMBER').membership, stranger())).toBeUndefined();
    expect(adminAuthority(organization, undefined, stranger())).toBeUndefined();
  });
});
