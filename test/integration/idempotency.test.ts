/**
 * Idempotency-Key on POST /v1/organizations/{orgName}/invitations: a retry with the same key and
 * body replays the first 201 and writes nothing; a different body is 422; a request still in
 * flight is 409; keys are per caller; a refused request releases its key.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { fingerprintOf } from '../../shared/http/idempotency.ts';
import { createOrganization, newOrganization, paths } from '../support/fixtures.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';
import { storedInvitations } from '../support/table.ts';

const { stack, user } = useTestStack();

const create = (orgName: string, token: string, emails: string[], key?: string) =>
  stack.api.post(paths.invitations(orgName), {
    token,
    body: { emails },
    headers: key === undefined ? {} : { 'Idempotency-Key': key },
  });

describe('Idempotency-Key on create', () => {
  it('replays the first 201 for the same key and body, and creates nothing new', async () => {
    const { admin, name, id } = await newOrganization(stack, user);
    const first = await create(name, admin.token, ['a@example.com', 'b@example.com'], 'key-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The same content, spelled differently, is the same request.
    const again = await create(name, admin.token, [' A@Example.com', 'b@example.com'], 'key-1');
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-ratelimit-remaining')).toBe(first.headers.get('x-ratelimit-remaining'));
    expect(await storedInvitations(stack, id)).toHaveLength(2);
  });

  it('answers 422 when the key was used for a different body, and changes nothing', async () => {
    const { admin, name, id } = await newOrganization(stack, user);
    expect((await create(name, admin.token, ['a@example.com'], 'key-2')).status).toBe(201);
    const other = await create(name, admin.token, ['c@example.com'], 'key-2');
    expect(other.status).toBe(422);
    expect(other.body.message).toMatch(/different request/);
    expect(await storedInvitations(stack, id)).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const { admin, name, id } = await newOrganization(stack, user);
    const emails = ['inflight@example.com'];
    const nowSeconds = Date.now() / 1000;
    await stack.db.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          ...keys.idempotency(admin.sub, 'key-3'),
          state: 'IN_PROGRESS',
          fingerprint: fingerprintOf({ orgName: name, emails }),
          leaseUntil: nowSeconds + 30,
          expiresAt: nowSeconds + 86_400,
        },
      }),
    );
    const response = await create(name, admin.token, emails, 'key-3');
    expect(response.status).toBe(409);
    expect(await storedInvitations(stack, id)).toHaveLength(0);
  });

  it('runs exactly one of many concurrent requests with the same key', async () => {
    const { admin, name, id } = await newOrganization(stack, user);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => create(name, admin.token, ['race@example.com', 'race2@example.com'], 'key-4')),
    );
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(responses.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    // Every 201 is the same response: one run, the others replays.
    for (const response of created) expect(response.body).toEqual(created[0]!.body);
    expect(await storedInvitations(stack, id)).toHaveLength(2);
  });

  it('scopes keys to the caller', async () => {
    const a = await newOrganization(stack, user);
    const b = await newOrganization(stack, user);
    expect((await create(a.name, a.admin.token, ['x@example.com'], 'shared-key')).status).toBe(201);
    const other = await create(b.name, b.admin.token, ['x@example.com'], 'shared-key');
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await storedInvitations(stack, b.id)).toHaveLength(1);
  });

  it('releases the key of a refused request, so a corrected retry runs', async () => {
    const admin = user('admin');
    const name = uniqueOrgName();
    const refused = await create(name, admin.token, ['later@example.com'], 'key-5');
    expect(refused.status).toBe(404); // the organization does not exist yet
    const { id } = await createOrganization(stack, admin, { name });
    const retried = await create(name, admin.token, ['later@example.com'], 'key-5');
    expect(retried.status).toBe(201);
    expect(await storedInvitations(stack, id)).toHaveLength(1);
  });

  it.each(['', 'with space', 'x'.repeat(256), 'ünïcode'])('refuses the malformed key %j with 400', async (key) => {
    const { admin, name, id } = await newOrganization(stack, user);
    const response = await create(name, admin.token, ['a@example.com'], key);
    expect(response.status).toBe(400);
    expect(await storedInvitations(stack, id)).toHaveLength(0);
  });
});
