/**
 * What a refused caller costs, counted in DynamoDB calls with SDK middleware (the bench's meter;
 * the handlers run in this process). Access is decided before anything else is read, so:
 * - a stranger's list costs the same on an organization with 1,000 invitations as on an empty one;
 * - an organization the caller may not see costs exactly what an unknown one does, on every route
 *   that names one (nothing to measure that tells a PRIVATE organization exists).
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { installDynamoDbMeter } from '../../bench/dynamodb-meter.ts';
import { toInvitationItem } from '../../shared/adapters/dynamodb/items.ts';
import { newInvitation } from '../../shared/domain/invitation.ts';
import { createOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { metered } from '../support/metered.ts';
import { uniqueOrgName, useTestStack } from '../support/stack.ts';

installDynamoDbMeter();
const { stack, user } = useTestStack();

const TIMINGS = { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 };

/** 1,000 pending invitations written straight into the table, in the item shape the store writes. */
async function seedInvitations(org: { id: number; name: string }, inviter: TestUser, count: number) {
  const nowMs = Date.now();
  const items = Array.from({ length: count }, (_, i) => {
    const address = `seeded-${i}@example.com`;
    const invitation = newInvitation(
      {
        id: randomUUID(),
        org,
        email: { address, normalized: address },
        inviter: { userId: inviter.sub, email: inviter.email, emailVerified: true, username: undefined, isRealmAdmin: false },
      },
      nowMs + i,
      TIMINGS,
    );
    return toInvitationItem(invitation, TIMINGS);
  });
  for (let i = 0; i < items.length; i += 25) {
    let pending: Record<string, any>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await stack.db.send(new BatchWriteCommand({ RequestItems: { [stack.tableName]: pending } }));
      pending = result.UnprocessedItems?.[stack.tableName] ?? [];
    }
  }
}

describe('a refused list costs the same whatever the organization holds', () => {
  let admin: TestUser;
  let big: { id: number; name: string };
  let empty: { id: number; name: string };

  beforeAll(async () => {
    admin = user('admin');
    big = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    empty = await createOrganization(stack, admin, { visibility: 'PUBLIC' });
    await seedInvitations(big, admin, 1_000);
  }, 60_000);

  it('seeded what the admin can list', async () => {
    const page = await stack.api.get(`${paths.invitations(big.name)}?limit=100`, { token: admin.token });
    expect(page.status, page.text).toBe(200);
    expect(page.body).toHaveLength(100);
  });

  it("a signed-in stranger's list of 1,000 invitations costs what an empty organization's does: the access lookups only", async () => {
    const stranger = user('stranger');
    for (const query of ['', '?status=EXPIRED', '?limit=1']) {
      const onBig = await metered(() => stack.api.get(`${paths.invitations(big.name)}${query}`, { token: stranger.token }));
      const onEmpty = await metered(() => stack.api.get(`${paths.invitations(empty.name)}${query}`, { token: stranger.token }));
      expect(onBig.response.status, onBig.response.text).toBe(401);
      expect(onEmpty.response.status).toBe(401);
      expect(onBig.calls).toEqual(onEmpty.calls);
      expect(onBig.calls).toEqual({ GetItemCommand: 1, BatchGetItemCommand: 1 });
    }
  });
});

describe('an invisible organization costs exactly what an unknown one does', () => {
  let admin: TestUser;
  let hidden: { id: number; name: string };
  let invitationId: string;

  beforeAll(async () => {
    admin = user('admin');
    hidden = await createOrganization(stack, admin, { visibility: 'PRIVATE' });
    const created = await stack.api.post(paths.invitations(hidden.name), { token: admin.token, body: { emails: ['someone@example.com'] } });
    invitationId = created.body.invitations[0].id;
  });

  const routes = (name: string, id: number, token: string) => [
    ['get organization', () => stack.api.get(paths.organization(name), { token })],
    ['list invitations', () => stack.api.get(paths.invitations(name), { token })],
    ['create invitations', () => stack.api.post(paths.invitations(name), { token, body: { emails: ['x@example.com'] } })],
    ['get invitation', () => stack.api.get(paths.invitation(name, invitationId), { token })],
    ['answer invitation', () => stack.api.put(paths.invitation(name, invitationId), { token, body: { status: 'ACCEPTED' } })],
    ['resend invitation', () => stack.api.post(paths.resend(id, invitationId), { token })],
    ['revoke invitation', () => stack.api.delete(paths.invitation(name, invitationId), { token })],
    ['invitation events', () => stack.api.get(`${paths.invitation(name, invitationId)}/events`, { token })],
    [
      'update organization',
      () => stack.api.request('PATCH', `/v1/organizations/${id}/partial`, { token, body: { name: uniqueOrgName(), contactEmail: 'c@example.com', visibility: 'PUBLIC' } }),
    ],
  ] as const;

  it('on every route that names one: the same 404 (status and body) and the same DynamoDB calls', async () => {
    const stranger = user('stranger');
    const invisible = routes(hidden.name, hidden.id, stranger.token);
    const unknown = routes(`no-such-org-${randomUUID().slice(0, 8)}`, 987_654_321, stranger.token);
    for (let i = 0; i < invisible.length; i++) {
      const [route, requestInvisible] = invisible[i]!;
      const [, requestUnknown] = unknown[i]!;
      const a = await metered(requestInvisible);
      const b = await metered(requestUnknown);
      expect(a.response.status, `${route}: ${a.response.text}`).toBe(404);
      expect(a.response.body, route).toEqual(b.response.body);
      expect(a.calls, route).toEqual(b.calls);
    }
  });
});
