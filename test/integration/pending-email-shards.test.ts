/**
 * The pending-email index (GSI2) is write-sharded (shared/domain/sharding.ts): no constant
 * partition key for every email in flight. These check that real invitations spread over the
 * shards, and that the sweep's read (every shard, merged oldest first) still finds every one.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { DynamoEmailDeliveryStore } from '../../shared/adapters/dynamodb/delivery-store.ts';
import { PENDING_EMAIL_SHARDS } from '../../shared/domain/sharding.ts';
import { uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitations } from '../support/table.ts';

// No delivery function: the emails stay PENDING, in the index.
const { stack, user } = useTestStack(RELAXED_RATE_LIMITS);

describe('the sharded pending-email index', () => {
  it('spreads pending emails over the shards, and the sweep finds every one, oldest first', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await invite(stack, admin, org.name, Array.from({ length: 10 }, () => uniqueAddress('sharded')));
      ids.push(...created.invitations.map((invitation: { id: string }) => invitation.id));
    }
    expect(ids).toHaveLength(80);

    const items = await storedInvitations(stack, org.id);
    const partitions = new Set(items.map((item) => item.GSI2PK as string));
    for (const partition of partitions) expect(partition).toMatch(/^EMAIL#PENDING#\d+$/);
    // 80 invitations over 32 shards: ~29 distinct expected; far from one hot key.
    expect(partitions.size, `distinct shards: ${[...partitions].sort().join(' ')}`).toBeGreaterThanOrEqual(PENDING_EMAIL_SHARDS / 2);
    const perShard = Math.max(...[...partitions].map((p) => items.filter((item) => item.GSI2PK === p).length));
    expect(perShard, 'no shard holds more than a small share').toBeLessThanOrEqual(12);

    const store = new DynamoEmailDeliveryStore(stack.db, stack.tableName, 31_536_000);
    const later = new Date(Date.now() + 60_000).toISOString();
    // The table is this file's own: these are all the pending emails there are.
    const pending = await store.listPendingEmails(later, 10_000);
    expect(new Set(pending.map((entry) => entry.invitationId))).toEqual(new Set(ids));
    const requestedAt = (entry: { invitationId: string }) => items.find((item) => item.id === entry.invitationId)!.emailRequestedAt as string;
    expect(pending.map(requestedAt)).toEqual(pending.map(requestedAt).sort());

    // The limit holds across shards: the oldest `limit` overall (one create request's 10 share a time).
    const oldest = await store.listPendingEmails(later, 15);
    expect(oldest).toHaveLength(15);
    expect(oldest.map(requestedAt)).toEqual(pending.slice(0, 15).map(requestedAt));
  }, 60_000);

  it('still finds an entry written before the index was sharded (the old constant partition)', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const [created] = (await invite(stack, admin, org.name, [uniqueAddress('legacy')])).invitations as { id: string }[];
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.invitation(org.id, created!.id),
        UpdateExpression: 'SET GSI2PK = :legacy',
        ExpressionAttributeValues: { ':legacy': 'EMAIL#PENDING' },
      }),
    );
    const store = new DynamoEmailDeliveryStore(stack.db, stack.tableName, 31_536_000);
    const pending = await store.listPendingEmails(new Date(Date.now() + 60_000).toISOString(), 10_000);
    expect(pending.map((entry) => entry.invitationId)).toContain(created!.id);
  });
});
