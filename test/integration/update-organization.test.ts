import { describe, expect, it } from 'vitest';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';

const { stack, user } = useTestStack();

const patch = (orgId: number | string, token: string, body: unknown) =>
  stack.api.request('PATCH', `/v1/organizations/${orgId}/partial`, { token, body });

describe('PATCH /v1/organizations/{id}/partial', () => {
  it('lets an admin change description, contact and visibility', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const response = await patch(org.id, admin.token, {
      name: org.name,
      contactEmail: 'new@example.com',
      visibility: 'PUBLIC',
      description: 'A new description',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: org.id, name: org.name, contactEmail: 'new@example.com', visibility: 'PUBLIC' });
    const stranger = user('stranger');
    const read = await stack.api.get(paths.organization(org.name), { token: stranger.token });
    expect(read.status).toBe(200); // now PUBLIC
    expect(read.body.description).toBe('A new description');
  });

  it('renames atomically: the new name resolves, the old one still resolves to it and stays reserved, invitations follow', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const { invitations } = await invite(stack, admin, org.name, ['renamed@example.com']);
    const newName = uniqueOrgName('renamed');
    const response = await patch(org.id, admin.token, { name: newName, contactEmail: 'c@example.com', visibility: 'PRIVATE' });
    expect(response.status).toBe(200);
    const byOldName = await stack.api.get(paths.organization(org.name), { token: admin.token });
    expect(byOldName.body).toMatchObject({ id: org.id, name: newName });
    const list = await stack.api.get(paths.invitations(newName), { token: admin.token });
    expect(list.body.map((i: { id: string }) => i.id)).toEqual([invitations[0].id]);
    const reuse = await stack.api.post(paths.organizations, {
      token: user('other').token,
      body: { name: org.name, contactEmail: 'c@example.com', visibility: 'PUBLIC' },
    });
    expect(reuse.status).toBe(409);
    expect(reuse.body.message).toMatch(/recently used by another organization/);
  });

  it('keeps the description when the body omits it, replaces it when given, clears it on null', async () => {
    const admin = user('admin');
    const created = await stack.api.post(paths.organizations, {
      token: admin.token,
      body: { name: uniqueOrgName(), contactEmail: 'c@example.com', visibility: 'PRIVATE', description: 'Kept description', website: 'https://acme.test' },
    });
    expect(created.status).toBe(201);
    const { id, name } = created.body;
    const read = async () => (await stack.api.get(paths.organization(name), { token: admin.token })).body;

    const omitted = await patch(id, admin.token, { name, contactEmail: 'new@example.com', visibility: 'PRIVATE' });
    expect(omitted.status, omitted.text).toBe(200);
    expect(omitted.body.description).toBe('Kept description');
    expect(await read()).toMatchObject({ description: 'Kept description', contactEmail: 'new@example.com', website: 'https://acme.test' });

    const replaced = await patch(id, admin.token, { name, contactEmail: 'new@example.com', visibility: 'PRIVATE', description: 'Another one' });
    expect(replaced.body.description).toBe('Another one');
    expect((await read()).description).toBe('Another one');

    const cleared = await patch(id, admin.token, { name, contactEmail: 'new@example.com', visibility: 'PRIVATE', description: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.description).toBeUndefined();
    const after = await read();
    expect(after.description).toBeUndefined();
    expect(after.website).toBe('https://acme.test');
  });

  it('refuses a name that is taken (409) and changes nothing', async () => {
    const admin = user('admin');
    const a = await createOrganization(stack, admin);
    const b = await createOrganization(stack, admin);
    const response = await patch(a.id, admin.token, { name: b.name, contactEmail: 'c@example.com', visibility: 'PRIVATE' });
    expect(response.status).toBe(409);
    expect((await stack.api.get(paths.organization(a.name), { token: admin.token })).body.id).toBe(a.id);
  });

  it('is for org admins only (401), hides private orgs from strangers (404, as unknown ids), knows no unknown ids (404)', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    const body = { name: org.name, contactEmail: 'c@example.com', visibility: 'PRIVATE' };
    expect((await patch(org.id, user('stranger').token, body)).status).toBe(401);
    const hidden = await createOrganization(stack, admin, { visibility: 'PRIVATE' });
    const stranger = user('stranger');
    const invisible = await patch(hidden.id, stranger.token, { ...body, name: hidden.name });
    expect(invisible.status).toBe(404);
    expect(invisible.body).toEqual((await patch(987654320, stranger.token, { ...body, name: hidden.name })).body);
    expect((await patch(987654321, admin.token, body)).status).toBe(404);
  });

  it.each([
    ['a non-integer id', 'abc', { name: 'valid-name', contactEmail: 'c@example.com', visibility: 'PUBLIC' }],
    ['an unknown field', 1, { name: 'valid-name', contactEmail: 'c@example.com', visibility: 'PUBLIC', id: 5 }],
    ['a missing name', 1, { contactEmail: 'c@example.com', visibility: 'PUBLIC' }],
    ['a bad visibility', 1, { name: 'valid-name', contactEmail: 'c@example.com', visibility: 'SECRET' }],
  ])('answers 400 for %s', async (_, id, body) => {
    const response = await patch(id, user('admin').token, body);
    expect(response.status).toBe(400);
  });
});
