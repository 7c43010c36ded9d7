import { describe, expect, it } from 'vitest';
import { canSeeOrganization, isOrgAdmin } from '../../shared/domain/access.ts';
import { type Membership, type Organization } from '../../shared/domain/organization.ts';
import { isPlainObject, parseNewOrganization } from '../../shared/http/bodies.ts';
import { caller, expectDomainError } from './helpers.ts';

const VALID = { name: 'acme-labs_2', contactEmail: 'ops@acme.io', visibility: 'PUBLIC' } as const;

const org = (overrides: Partial<Organization> = {}): Organization => ({
  id: 7,
  name: 'acme',
  visibility: 'PRIVATE',
  contactEmail: 'ops@acme.io',
  creator: { id: 'creator-1', username: 'carol' },
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  ...overrides,
});
const membership = (associationType: Membership['associationType'], userId = 'user-1'): Membership => ({
  orgId: 7,
  userId,
  associationType,
});

describe('parseNewOrganization', () => {
  it('accepts the minimal body', () => {
    const parsed = parseNewOrganization({ ...VALID });
    expect(parsed).toEqual({ name: 'acme-labs_2', contactEmail: 'ops@acme.io', visibility: 'PUBLIC' });
    expect(parsed.description).toBeUndefined();
    expect(parsed.contactPhone).toBeUndefined();
    expect(parsed.website).toBeUndefined();
    expect(parsed.address).toBeUndefined();
  });

  it('keeps every optional field', () => {
    const body = {
      ...VALID,
      visibility: 'PRIVATE',
      description: 'A lab.',
      contactPhone: '+30 210 000 0000',
      website: 'https://acme.io',
      address: '1 Main St',
    };
    expect(parseNewOrganization(body)).toEqual(body);
  });

  it('ignores unknown and read-only fields', () => {
    const parsed = parseNewOrganization({
      ...VALID,
      creator: { id: 'someone-else' },
      organizationMembers: [{ id: 1 }],
      organizationInvitations: [],
      canEdit: true,
      isCreator: true,
      isMember: true,
      createdAt: '2000-01-01T00:00:00Z',
      updatedAt: '2000-01-01T00:00:00Z',
      models: [],
      somethingElse: 'x',
    });
    expect(Object.keys(parsed).sort()).toEqual(
      ['address', 'contactEmail', 'contactPhone', 'description', 'name', 'visibility', 'website'],
    );
    expect(parsed).toEqual({ ...VALID });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', [VALID]],
    ['a string', JSON.stringify(VALID)],
    ['a number', 3],
  ])('rejects a body that is %s', (_name, body) => {
    expectDomainError(() => parseNewOrganization(body), 'INVALID_INPUT', /JSON object/);
  });

  it.each([1, 0, '12', 'abc'])('refuses a client-chosen id (%s)', (id) => {
    expectDomainError(() => parseNewOrganization({ ...VALID, id }), 'INVALID_INPUT', /id is assigned by the service/);
  });

  it.each(['name', 'contactEmail', 'visibility'] as const)('requires %s', (field) => {
    const { [field]: _omitted, ...rest } = VALID;
    expectDomainError(() => parseNewOrganization(rest), 'INVALID_INPUT', `${field} is required.`);
    expectDomainError(() => parseNewOrganization({ ...VALID, [field]: null }), 'INVALID_INPUT', `${field} is required.`);
  });

  it.each([
    ['name', 123],
    ['name', ['acme']],
    ['contactEmail', { address: 'ops@acme.io' }],
    ['visibility', true],
    ['description', 42],
    ['contactPhone', 2100000000],
    ['website', { url: 'https://acme.io' }],
    ['address', ['1 Main St']],
  ])('rejects %s of a wrong type (%j)', (field, value) => {
    expectDomainError(() => parseNewOrganization({ ...VALID, [field]: value }), 'INVALID_INPUT', `${field} must be a string.`);
  });

  it.each([
    ['3 characters', 'abc'],
    ['200 characters', 'n'.repeat(200)],
    ['digits only', '123'],
    ['underscores and hyphens only', '_-_'],
    ['mixed case', 'AcMe-Labs'],
  ])('accepts a name of %s', (_name, name) => {
    expect(parseNewOrganization({ ...VALID, name }).name).toBe(name);
  });

  it.each([
    ['2 characters', 'ab'],
    ['201 characters', 'n'.repeat(201)],
    ['empty', ''],
    ['a space', 'acme labs'],
    ['a dot', 'acme.labs'],
    ['a slash', 'acme/labs'],
    ['a percent sign', 'acme%20labs'],
    ['an accented letter', 'ácme'],
    ['a Cyrillic lookalike', '\u0430cme'],
    ['a trailing newline', 'acme\n'],
    ['surrounding spaces', ' acme '],
  ])('rejects a name with %s', (_name, name) => {
    expectDomainError(() => parseNewOrganization({ ...VALID, name }), 'INVALID_INPUT', /^name must be 3 to 200 characters/);
  });

  it.each(['not-an-email', 'ops@localhost', ' ops@acme.io', 'ops@acme.io\n', ''])(
    'rejects the contactEmail %j',
    (contactEmail) => {
      const error = expectDomainError(() => parseNewOrganization({ ...VALID, contactEmail }), 'INVALID_INPUT');
      expect(error.message).toMatch(/contactEmail/);
    },
  );

  it.each(['PUBLIC', 'PRIVATE'])('accepts visibility %s', (visibility) => {
    expect(parseNewOrganization({ ...VALID, visibility }).visibility).toBe(visibility);
  });

  it.each(['public', 'Private', 'INTERNAL', '', ' PUBLIC'])('rejects visibility %j', (visibility) => {
    expectDomainError(
      () => parseNewOrganization({ ...VALID, visibility }),
      'INVALID_INPUT',
      'visibility must be PUBLIC or PRIVATE.',
    );
  });

  describe('description', () => {
    it.each([
      ['3 characters', 'abc'],
      ['50000 characters', 'd'.repeat(50_000)],
    ])('accepts %s', (_name, description) => {
      expect(parseNewOrganization({ ...VALID, description }).description).toBe(description);
    });

    it('treats null as absent', () => {
      expect(parseNewOrganization({ ...VALID, description: null }).description).toBeUndefined();
    });

    it.each([
      ['empty', ''],
      ['2 characters', 'ab'],
    ])('rejects %s', (_name, description) => {
      expectDomainError(
        () => parseNewOrganization({ ...VALID, description }),
        'INVALID_INPUT',
        'description must be at least 3 characters.',
      );
    });

    it('rejects 50001 characters', () => {
      expectDomainError(
        () => parseNewOrganization({ ...VALID, description: 'd'.repeat(50_001) }),
        'INVALID_INPUT',
        'description must be at most 50000 characters.',
      );
    });
  });

  describe.each(['contactPhone', 'website', 'address'] as const)('%s', (field) => {
    it('accepts 1000 characters', () => {
      expect(parseNewOrganization({ ...VALID, [field]: 'x'.repeat(1000) })[field]).toBe('x'.repeat(1000));
    });

    it('rejects 1001 characters', () => {
      expectDomainError(
        () => parseNewOrganization({ ...VALID, [field]: 'x'.repeat(1001) }),
        'INVALID_INPUT',
        `${field} must be at most 1000 characters.`,
      );
    });

    it('treats null as absent', () => {
      expect(parseNewOrganization({ ...VALID, [field]: null })[field]).toBeUndefined();
    });
  });
});

describe('isOrgAdmin', () => {
  it('is true for the creator, even without a membership', () => {
    expect(isOrgAdmin(org(), undefined, caller({ userId: 'creator-1' }))).toBe(true);
  });

  it('is true for an ADMIN member', () => {
    expect(isOrgAdmin(org(), membership('ADMIN'), caller({ userId: 'user-1' }))).toBe(true);
  });

  it('is true for a realm admin with no relation to the org', () => {
    expect(isOrgAdmin(org(), undefined, caller({ userId: 'root', isRealmAdmin: true }))).toBe(true);
  });

  it('is false for a MEMBER', () => {
    expect(isOrgAdmin(org(), membership('MEMBER'), caller({ userId: 'user-1' }))).toBe(false);
  });

  it('is false for a stranger', () => {
    expect(isOrgAdmin(org(), undefined, caller({ userId: 'eve' }))).toBe(false);
  });

  it('does not treat a matching username or email as the creator', () => {
    const o = org({ creator: { id: 'creator-1', username: 'carol', email: 'carol@acme.io' } });
    expect(isOrgAdmin(o, undefined, caller({ userId: 'eve', username: 'carol', email: 'carol@acme.io' }))).toBe(false);
  });
});

describe('canSeeOrganization', () => {
  const stranger = caller({ userId: 'eve' });

  it('shows a PUBLIC organization to anyone', () => {
    expect(canSeeOrganization(org({ visibility: 'PUBLIC' }), undefined, stranger)).toBe(true);
  });

  it('hides a PRIVATE organization from a stranger', () => {
    expect(canSeeOrganization(org(), undefined, stranger)).toBe(false);
  });

  it.each([
    ['a MEMBER', membership('MEMBER', 'eve'), stranger],
    ['an ADMIN member', membership('ADMIN', 'eve'), stranger],
    ['the creator', undefined, caller({ userId: 'creator-1' })],
    ['a realm admin', undefined, caller({ userId: 'root', isRealmAdmin: true })],
  ])('shows a PRIVATE organization to %s', (_name, m, who) => {
    expect(canSeeOrganization(org(), m, who)).toBe(true);
  });
});

describe('isPlainObject', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [null, false],
    [undefined, false],
    [[], false],
    ['x', false],
    [1, false],
  ])('%j → %s', (value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});
