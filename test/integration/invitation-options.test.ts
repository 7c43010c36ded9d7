/**
 * Create's options against the local stack: the role an invitation grants (associationType), its
 * own lifetime (expiresInSeconds, renewed by a resend), the admins' `link`, the dry run
 * (`?dryRun=true`: each outcome, nothing written, no rate budget), and a 400 naming each bad field.
 * Link-only delivery (sendEmail: false) end to end: link-only-invitations.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_FRONTEND_URL } from '../support/emails.ts';
import { addMember, answerInvitation, createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { scanTable } from '../support/scan.ts';
import { useTestStack } from '../support/stack.ts';
import { addAdminMember, expireInvitation, storedInvitation, storedMembership } from '../support/table.ts';

const { stack, user } = useTestStack();

const SEVEN_DAYS = 604_800;

function postInvitations(orgName: string, caller: TestUser, body: unknown, query = '', headers?: Record<string, string>) {
  return stack.api.post(`${paths.invitations(orgName)}${query}`, { token: caller.token, body, headers });
}

async function newOrg() {
  const creator = user('creator');
  const org = await createOrganization(stack, creator);
  return { creator, ...org };
}

const linkOf = (orgName: string, invitationId: string) =>
  `${LOCAL_FRONTEND_URL}/dashboard/organizations/${orgName}/invitations/${invitationId}`;

const secondsUntil = (isoDate: string) => (Date.parse(isoDate) - Date.now()) / 1000;

describe('associationType', () => {
  it('defaults to MEMBER, is shown in every view and accepting grants a MEMBER membership', async () => {
    const { creator, id, name } = await newOrg();
    const invitee = user('invitee');
    const { invitations } = await invite(stack, creator, name, [invitee.email]);
    expect(invitations[0].associationType).toBe('MEMBER');
    expect((await storedInvitation(stack, id, invitations[0].id))!.associationType).toBe('MEMBER');
    const answered = await answerInvitation(stack, invitee, name, invitations[0].id, 'ACCEPTED');
    expect(answered.associationType).toBe('MEMBER');
    expect((await storedMembership(stack, id, invitee.sub))!.associationType).toBe('MEMBER');
  });

  it('ADMIN: shown in create, get and list, and accepting creates an ADMIN membership that may invite', async () => {
    const { creator, id, name } = await newOrg();
    const invitee = user('future-admin');
    const created = await postInvitations(name, creator, { emails: [invitee.email], associationType: 'ADMIN' });
    expect(created.status, created.text).toBe(201);
    const invitation = created.body.invitations[0];
    expect(invitation.associationType).toBe('ADMIN');

    const read = await stack.api.get(paths.invitation(name, invitation.id), { token: invitee.token });
    expect(read.status, read.text).toBe(200);
    expect(read.body.associationType).toBe('ADMIN');
    const listed = await stack.api.get(paths.invitations(name), { token: creator.token });
    expect(listed.body.find((i: any) => i.id === invitation.id).associationType).toBe('ADMIN');

    await answerInvitation(stack, invitee, name, invitation.id, 'ACCEPTED');
    expect((await storedMembership(stack, id, invitee.sub))!.associationType).toBe('ADMIN');
    // An admin now: may invite.
    await invite(stack, invitee, name, [user('next').email]);
  });

  it('an ADMIN invitation upgrades an existing MEMBER; a MEMBER invitation never downgrades an ADMIN', async () => {
    const { creator, id, name } = await newOrg();
    // A member whose membership holds another address than the one invited (so create does not skip it).
    const member = await addMember(stack, creator, name, user('member'));
    const memberNewAddress = user('member-new-address', { sub: member.sub, email: `new-${member.email}` });
    const up = await postInvitations(name, creator, { emails: [memberNewAddress.email], associationType: 'ADMIN' });
    expect(up.status, up.text).toBe(201);
    await answerInvitation(stack, memberNewAddress, name, up.body.invitations[0].id, 'ACCEPTED');
    expect((await storedMembership(stack, id, member.sub))!.associationType).toBe('ADMIN');

    const admin = user('admin');
    await addAdminMember(stack, id, admin);
    const adminNewAddress = user('admin-new-address', { sub: admin.sub, email: `new-${admin.email}` });
    const { invitations } = await invite(stack, creator, name, [adminNewAddress.email]);
    await answerInvitation(stack, adminNewAddress, name, invitations[0].id, 'ACCEPTED');
    expect((await storedMembership(stack, id, admin.sub))!.associationType).toBe('ADMIN');
  });
});

describe('expiresInSeconds', () => {
  it('defaults to INVITATION_EXPIRY_SECONDS', async () => {
    const { creator, name } = await newOrg();
    const { invitations } = await invite(stack, creator, name, [user('a').email]);
    expect(secondsUntil(invitations[0].expirationDate)).toBeGreaterThan(SEVEN_DAYS - 60);
    expect(secondsUntil(invitations[0].expirationDate)).toBeLessThanOrEqual(SEVEN_DAYS);
  });

  it.each([3600, 86_400, 2_592_000])('takes %i: the invitation expires that long from now', async (seconds) => {
    const { creator, id, name } = await newOrg();
    const response = await postInvitations(name, creator, { emails: [user('a').email], expiresInSeconds: seconds });
    expect(response.status, response.text).toBe(201);
    const invitation = response.body.invitations[0];
    expect(secondsUntil(invitation.expirationDate)).toBeGreaterThan(seconds - 60);
    expect(secondsUntil(invitation.expirationDate)).toBeLessThanOrEqual(seconds);
    expect((await storedInvitation(stack, id, invitation.id))!.lifetimeSeconds).toBe(seconds);
  });

  it('a resend renews by the invitation own lifetime, not the default', async () => {
    const { creator, id, name } = await newOrg();
    const response = await postInvitations(name, creator, { emails: [user('a').email], expiresInSeconds: 7200 });
    const invitation = response.body.invitations[0];
    // Half its life has passed.
    await expireInvitation(stack, id, invitation.id, -3600);
    expect(secondsUntil((await stack.api.get(paths.invitation(name, invitation.id), { token: creator.token })).body.expirationDate))
      .toBeLessThanOrEqual(3600);
    const resent = await stack.api.post(paths.resend(id, invitation.id), { token: creator.token });
    expect(resent.status, resent.text).toBe(200);
    expect(secondsUntil(resent.body.expirationDate)).toBeGreaterThan(7200 - 60);
    expect(secondsUntil(resent.body.expirationDate)).toBeLessThanOrEqual(7200);
  });
});

describe('link', () => {
  it('every admin view carries the link with the current name; the invitee view does not', async () => {
    const { creator, id, name } = await newOrg();
    const invitee = user('invitee');
    const created = await postInvitations(name, creator, { emails: [invitee.email] });
    const invitation = created.body.invitations[0];
    expect(invitation.link).toBe(linkOf(name, invitation.id));

    const adminRead = await stack.api.get(paths.invitation(name, invitation.id), { token: creator.token });
    expect(adminRead.body.link).toBe(linkOf(name, invitation.id));
    const listed = await stack.api.get(paths.invitations(name), { token: creator.token });
    expect(listed.body[0].link).toBe(linkOf(name, invitation.id));
    const resent = await stack.api.post(paths.resend(id, invitation.id), { token: creator.token });
    expect(resent.body.link).toBe(linkOf(name, invitation.id));

    const inviteeRead = await stack.api.get(paths.invitation(name, invitation.id), { token: invitee.token });
    expect(inviteeRead.status, inviteeRead.text).toBe(200);
    expect(inviteeRead.body).not.toHaveProperty('link');
    const answered = await answerInvitation(stack, invitee, name, invitation.id, 'REJECTED');
    expect(answered).not.toHaveProperty('link');
  });

  it('after a rename, the link (read through the old name too) names the current name', async () => {
    const { creator, id, name } = await newOrg();
    const { invitations } = await invite(stack, creator, name, [user('a').email]);
    const newName = `${name}-renamed`;
    const renamed = await stack.api.request('PATCH', `/v1/organizations/${id}/partial`, {
      token: creator.token,
      body: { name: newName, contactEmail: 'contact@example.com', visibility: 'PRIVATE' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    const viaOldName = await stack.api.get(paths.invitations(name), { token: creator.token });
    expect(viaOldName.body[0].link).toBe(linkOf(newName, invitations[0].id));
  });
});

describe('dry run', () => {
  it('reports each outcome in request order, writes nothing and spends no rate budget', async () => {
    const { creator, name } = await newOrg();
    const member = await addMember(stack, creator, name, user('member'));
    const pending = user('pending');
    const first = await postInvitations(name, creator, { emails: [pending.email] });
    const remainingBefore = Number(first.headers.get('x-ratelimit-remaining'));
    const fresh = user('fresh');
    const before = await scanTable(stack);

    const response = await postInvitations(
      name,
      creator,
      { emails: [fresh.email, 'not-an-address', member.email.toUpperCase(), ` ${pending.email} `, fresh.email.toUpperCase()] },
      '?dryRun=true',
    );
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      results: [
        { email: fresh.email, outcome: 'INVITE' },
        { email: 'not-an-address', outcome: 'INVALID', reason: 'Not a valid email address.' },
        { email: member.email.toUpperCase(), outcome: 'ALREADY_MEMBER' },
        { email: pending.email, outcome: 'ALREADY_INVITED' },
      ],
    });
    expect(response.headers.get('x-ratelimit-remaining')).toBeNull();
    expect(await scanTable(stack)).toEqual(before);

    const next = await postInvitations(name, creator, { emails: [fresh.email] });
    expect(next.status, next.text).toBe(201);
    expect(Number(next.headers.get('x-ratelimit-remaining'))).toBe(remainingBefore - 1);
  });

  it('an expired pending invitation does not count: INVITE', async () => {
    const { creator, id, name } = await newOrg();
    const invitee = user('invitee');
    const { invitations } = await invite(stack, creator, name, [invitee.email]);
    await expireInvitation(stack, id, invitations[0].id);
    const response = await postInvitations(name, creator, { emails: [invitee.email] }, '?dryRun=true');
    expect(response.body.results).toEqual([{ email: invitee.email, outcome: 'INVITE' }]);
  });

  it('dryRun=false creates as without it', async () => {
    const { creator, name } = await newOrg();
    const response = await postInvitations(name, creator, { emails: [user('a').email] }, '?dryRun=false');
    expect(response.status, response.text).toBe(201);
    expect(response.body.invitations).toHaveLength(1);
  });

  it('ignores an Idempotency-Key: the key stays free for the real request', async () => {
    const { creator, name } = await newOrg();
    const headers = { 'Idempotency-Key': `dry-${Date.now()}` };
    const email = user('a').email;
    const dry = await postInvitations(name, creator, { emails: [email] }, '?dryRun=true', headers);
    expect(dry.status, dry.text).toBe(200);
    expect(dry.headers.get('idempotent-replayed')).toBeNull();
    const real = await postInvitations(name, creator, { emails: [email] }, '', headers);
    expect(real.status, real.text).toBe(201);
    expect(real.body.invitations).toHaveLength(1);
    expect(real.headers.get('idempotent-replayed')).toBeNull();
  });

  it('has the same authorization: a member who is not an admin gets 401, an unknown organization 404', async () => {
    const { creator, name } = await newOrg();
    const member = await addMember(stack, creator, name, user('member'));
    const refused = await postInvitations(name, member, { emails: [user('a').email] }, '?dryRun=true');
    expect(refused.status, refused.text).toBe(401);
    const unknown = await postInvitations(`${name}-nope`, creator, { emails: [user('a').email] }, '?dryRun=true');
    expect(unknown.status, unknown.text).toBe(404);
  });

  it.each([
    ['not an object', [], /JSON object/],
    ['no emails', {}, /"emails" must be an array/],
    ['more than 10', { emails: Array.from({ length: 11 }, (_, i) => `u${i}@example.com`) }, /at most 10/],
    ['a non-string entry', { emails: [42] }, /emails\[0\] must be a string/],
    ['a bad associationType', { emails: ['a@example.com'], associationType: 'OWNER' }, /associationType/],
    ['a bad expiresInSeconds', { emails: ['a@example.com'], expiresInSeconds: 10 }, /expiresInSeconds/],
    ['a bad sendEmail', { emails: ['a@example.com'], sendEmail: 'no' }, /sendEmail/],
  ])('is still 400 for %s', async (_case, body, message) => {
    const { creator, name } = await newOrg();
    const response = await postInvitations(name, creator, body, '?dryRun=true');
    expect(response.status, response.text).toBe(400);
    expect(response.body.message).toMatch(message);
  });

  it('400 for a dryRun other than true or false', async () => {
    const { creator, name } = await newOrg();
    const response = await postInvitations(name, creator, { emails: ['a@example.com'] }, '?dryRun=yes');
    expect(response.status, response.text).toBe(400);
    expect(response.body.message).toBe('dryRun must be true or false.');
  });
});

describe('Idempotency-Key and options', () => {
  it('the same addresses with other options under the same key is 422; with the same options a replay', async () => {
    const { creator, name } = await newOrg();
    const headers = { 'Idempotency-Key': `opts-${Date.now()}` };
    const body = { emails: [user('a').email], associationType: 'ADMIN', sendEmail: false };
    const first = await postInvitations(name, creator, body, '', headers);
    expect(first.status, first.text).toBe(201);
    const replay = await postInvitations(name, creator, body, '', headers);
    expect(replay.status, replay.text).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const other = await postInvitations(name, creator, { ...body, associationType: 'MEMBER' }, '', headers);
    expect(other.status, other.text).toBe(422);
  });
});

describe('bad options: 400 naming the field, nothing written', () => {
  it.each([
    [{ associationType: 'OWNER' }, 'associationType must be one of MEMBER, ADMIN.'],
    [{ associationType: 'admin' }, 'associationType must be one of MEMBER, ADMIN.'],
    [{ associationType: null }, 'associationType must be one of MEMBER, ADMIN.'],
    [{ expiresInSeconds: 3599 }, 'expiresInSeconds must be an integer from 3600 to 2592000.'],
    [{ expiresInSeconds: 2_592_001 }, 'expiresInSeconds must be an integer from 3600 to 2592000.'],
    [{ expiresInSeconds: 7200.5 }, 'expiresInSeconds must be an integer from 3600 to 2592000.'],
    [{ expiresInSeconds: '7200' }, 'expiresInSeconds must be an integer from 3600 to 2592000.'],
    [{ sendEmail: 'false' }, 'sendEmail must be true or false.'],
    [{ sendEmail: 0 }, 'sendEmail must be true or false.'],
    [{ sendEmail: null }, 'sendEmail must be true or false.'],
  ])('%j', async (options, message) => {
    const { creator, name } = await newOrg();
    const before = await scanTable(stack);
    const response = await postInvitations(name, creator, { emails: [user('a').email], ...options });
    expect(response.status, response.text).toBe(400);
    expect(response.body).toEqual({ status: 400, message });
    expect(await scanTable(stack)).toEqual(before);
  });
});
