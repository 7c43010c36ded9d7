/**
 * A dry run's DynamoDB calls, counted with SDK middleware (the bench's meter; the handlers run in
 * this process): the same for 1 or 10 addresses, and only reads.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { installDynamoDbMeter } from '../../bench/dynamodb-meter.ts';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { metered } from '../support/metered.ts';
import { useTestStack } from '../support/stack.ts';

installDynamoDbMeter();
const { stack, user } = useTestStack();

describe('dry run cost', () => {
  it('GetItem, Query, one BatchGetItem: for 1 address as for 10', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const pending = Array.from({ length: 5 }, (_, i) => `pending-${i}-${randomUUID().slice(0, 6)}@example.com`);
    await invite(stack, admin, org.name, pending);
    const dryRun = (emails: string[]) => () =>
      stack.api.post(`${paths.invitations(org.name)}?dryRun=true`, { token: admin.token, body: { emails } });

    const one = await metered(dryRun([user('a').email]));
    const ten = await metered(dryRun([...pending, ...Array.from({ length: 5 }, (_, i) => user(`n${i}`).email)]));
    expect(one.response.status, one.response.text).toBe(200);
    expect(ten.response.status, ten.response.text).toBe(200);
    expect(ten.response.body.results.filter((r: any) => r.outcome === 'ALREADY_INVITED')).toHaveLength(5);
    const expected = { GetItemCommand: 1, QueryCommand: 1, BatchGetItemCommand: 1 };
    expect(one.calls).toEqual(expected);
    expect(ten.calls).toEqual(expected);
  });
});
