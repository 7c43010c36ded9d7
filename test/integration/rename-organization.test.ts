/**
 * Renaming an organization must not break the links already emailed, nor free the old name for
 * someone else while those links can still be answered: the old name keeps resolving to the
 * organization (an alias, reserved until rename + the longest invitation lifetime +
 * INVITATION_RETENTION_SECONDS), and every email sent after the rename names the current name.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { createOrganization, invite, paths, type TestUser } from '../support/fixtures.ts';
import { LOCAL_FRONTEND_URL, expectExactlyEmails, waitUntilSent } from '../support/emails.ts';
import { RELAXED_RATE_LIMITS, uniqueOrgName, useTestStack } from '../support/stack.ts';
import { storedItem } from '../support/table.ts';

const EXPIRY_SECONDS = 604_800;
const RETENTION_SECONDS = 2_592_000;

const { stack, user } = useTestStack(
  { ...RELAXED_RATE_LIMITS, INVITATION_EXPIRY_SECONDS: String(EXPIRY_SECONDS), INVITATION_RETENTION_SECONDS: String(RETENTION_SECONDS) },
  { emailDelivery: true },
);

const rename = (orgId: number, admin: TestUser, name: string, visibility: 'PUBLIC' | 'PRIVATE' = 'PRIVATE') =>
  stack.api.request('PATCH', `/v1/organizations/${orgId}/partial`, {
    token: admin.token,
    body: { name, contactEmail: 'c@example.com', visibility },
  });

const register = (caller: TestUser, name: string) =>
  stack.api.post(paths.organizations, { token: caller.token, body: { name, contactEmail: 'm@example.com', visibility: 'PUBLIC' } });

const linkOf = (orgName: string, invitationId: string) => `${LOCAL_FRONTEND_URL}/dashboard/organizations/${orgName}/invitations/${invitationId}`;

describe('renaming an organization keeps its old names working', () => {
  it("keeps the emailed link working for the invitee (GET and PUT through the old name), and resends name the new name", async () => {
    const alice = user('alice');
    const bob = user('bob');
    const org = await createOrganization(stack, alice);
    const { invitations } = await invite(stack, alice, org.name, [bob.email]);
    const invitationId = invitations[0].id as string;
    await waitUntilSent(stack, org.id, invitationId);
    const [first] = await expectExactlyEmails(stack.sesEndpoint, [bob.email], 1, 0);
    expect(first!.body.text).toContain(linkOf(org.name, invitationId));

    const newName = uniqueOrgName('renamed');
    expect((await rename(org.id, alice, newName)).status).toBe(200);

    // The link Bob already has still opens his invitation.
    const read = await stack.api.get(paths.invitation(org.name, invitationId), { token: bob.token });
    expect(read.status, read.text).toBe(200);
    expect(read.body.id).toBe(invitationId);

    // A resend after the rename names the organization's current name, in the subject and the link.
    const resent = await stack.api.post(paths.resend(org.id, invitationId), { token: alice.token });
    expect(resent.status, resent.text).toBe(200);
    await waitUntilSent(stack, org.id, invitationId, 2);
    const emails = await expectExactlyEmails(stack.sesEndpoint, [bob.email], 2, 0);
    const second = emails.find((email) => email.messageId !== first!.messageId)!;
    expect(second.subject).toContain(newName);
    expect(second.subject).not.toContain(org.name);
    expect(second.body.text).toContain(linkOf(newName, invitationId));
    expect(second.body.html).toContain(newName);

    // And Bob can answer through the old link.
    const answered = await stack.api.put(paths.invitation(org.name, invitationId), { token: bob.token, body: { status: 'ACCEPTED' } });
    expect(answered.status, answered.text).toBe(200);
    const asMember = await stack.api.get(paths.organization(newName), { token: bob.token });
    expect(asMember.body).toMatchObject({ id: org.id, name: newName, isMember: true });
  });

  it('resolves the old name on every route that takes a name: organization, list, create', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice);
    const { invitations } = await invite(stack, alice, org.name, [user('x').email]);
    const newName = uniqueOrgName('renamed');
    expect((await rename(org.id, alice, newName)).status).toBe(200);

    const read = await stack.api.get(paths.organization(org.name), { token: alice.token });
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({ id: org.id, name: newName });
    const list = await stack.api.get(paths.invitations(org.name), { token: alice.token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.map((i: { id: string }) => i.id)).toEqual([invitations[0].id]);
    const created = await stack.api.post(paths.invitations(org.name), { token: alice.token, body: { emails: [user('y').email] } });
    expect(created.status, created.text).toBe(201);
    expect((await stack.api.get(paths.invitations(newName), { token: alice.token })).body).toHaveLength(2);
  });

  it('does not let anyone else register or rename to the old name (409, recently used), and the link never opens their organization', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const mallory = user('mallory');
    const org = await createOrganization(stack, alice);
    const { invitations } = await invite(stack, alice, org.name, [bob.email]);
    expect((await rename(org.id, alice, uniqueOrgName('renamed'))).status).toBe(200);

    const taken = await register(mallory, org.name);
    expect(taken.status, taken.text).toBe(409);
    expect(taken.body.message).toMatch(/recently used by another organization/);
    const mallorysOrg = await createOrganization(stack, mallory, { visibility: 'PUBLIC' });
    const renamedTo = await rename(mallorysOrg.id, mallory, org.name, 'PUBLIC');
    expect(renamedTo.status, renamedTo.text).toBe(409);
    expect(renamedTo.body.message).toMatch(/recently used by another organization/);

    const read = await stack.api.get(paths.invitation(org.name, invitations[0].id), { token: bob.token });
    expect(read.status).toBe(200);
    expect((await stack.api.get(paths.organization(org.name), { token: alice.token })).body.id).toBe(org.id);
  });

  it('keeps every old name working across several renames, and lets the organization take its own old name back', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const org = await createOrganization(stack, alice);
    const { invitations } = await invite(stack, alice, org.name, [bob.email]);
    const second = uniqueOrgName('second');
    const third = uniqueOrgName('third');
    expect((await rename(org.id, alice, second)).status).toBe(200);
    expect((await rename(org.id, alice, third)).status).toBe(200);
    for (const name of [org.name, second, third]) {
      const read = await stack.api.get(paths.invitation(name, invitations[0].id), { token: bob.token });
      expect(read.status, `${name}: ${read.text}`).toBe(200);
      expect((await stack.api.get(paths.organization(name), { token: alice.token })).body).toMatchObject({ id: org.id, name: third });
    }
    // Back to the first name: allowed for the organization that had it.
    const back = await rename(org.id, alice, org.name);
    expect(back.status, back.text).toBe(200);
    expect(back.body.name).toBe(org.name);
    for (const name of [org.name, second, third]) {
      expect((await stack.api.get(paths.organization(name), { token: alice.token })).body).toMatchObject({ id: org.id, name: org.name });
    }
    expect((await register(user('mallory'), third)).status).toBe(409);
  });

  it('reserves the old name until rename + expiry + retention, checked in code (not by TTL), then frees it', async () => {
    const alice = user('alice');
    const org = await createOrganization(stack, alice);
    const before = Math.floor(Date.now() / 1000);
    expect((await rename(org.id, alice, uniqueOrgName('renamed'))).status).toBe(200);
    const after = Math.ceil(Date.now() / 1000);

    const alias = await storedItem(stack, keys.organizationName(org.name));
    expect(alias).toMatchObject({ orgId: org.id });
    // The longest an invitation may live: a create request may ask for up to 30 days (expiresInSeconds).
    const longestLifetime = Math.max(EXPIRY_SECONDS, 2_592_000);
    expect(alias!.aliasUntil).toBeGreaterThanOrEqual(before + longestLifetime + RETENTION_SECONDS);
    expect(alias!.aliasUntil).toBeLessThanOrEqual(after + longestLifetime + RETENTION_SECONDS);
    expect(alias!.ttl).toBe(alias!.aliasUntil);

    // The reservation ends (TTL has not deleted the item): the name resolves to nothing, and is free.
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.organizationName(org.name),
        UpdateExpression: 'SET aliasUntil = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect((await stack.api.get(paths.organization(org.name), { token: alice.token })).status).toBe(404);
    const mallory = user('mallory');
    const reused = await register(mallory, org.name);
    expect(reused.status, reused.text).toBe(201);
    expect(reused.body.id).not.toBe(org.id);
    const stored = await storedItem(stack, keys.organizationName(org.name));
    expect(stored).toMatchObject({ orgId: reused.body.id });
    expect(stored!.aliasUntil).toBeUndefined();
  });
});
