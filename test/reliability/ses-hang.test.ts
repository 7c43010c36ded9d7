/**
 * An SES endpoint that hangs (accepts the connection, never answers) behind the real delivery
 * function: the batch must end with its unsent record reported as a batch item failure (Lambda
 * retries from there) well before the function's timeout, nothing recorded as sent; and a batch
 * whose time budget is too short for another record defers it without starting a send.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { runWithDeadline } from '../../shared/deadline.ts';
import { FUNCTION_SIZES } from '../../shared/deployment/function-sizes.ts';
import { hangingServer } from '../support/dynamodb-faults.ts';
import { streamRecordOf, uniqueAddress } from '../support/emails.ts';
import { createOrganization, invite } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const ses = await hangingServer();
let connections = 0;
ses.on('connection', () => connections++);
afterAll(() => new Promise<void>((resolve) => ses.close(() => resolve())));

const { stack, user } = useTestStack({ ...RELAXED_RATE_LIMITS, SES_ENDPOINT: `http://127.0.0.1:${(ses.address() as AddressInfo).port}` });

type DeliveryModule = {
  handler: (event: DynamoDBStreamEvent, context: unknown) => Promise<DynamoDBBatchResponse>;
  deliverBatch: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  RECORD_WORST_CASE_MS: number;
};
let delivery: DeliveryModule;
beforeAll(async () => {
  // After the stack set the function environment (SES_ENDPOINT: the hanging server).
  delivery = (await import('../../functions/deliver-invitation-emails.ts')) as unknown as DeliveryModule;
});

const TIMEOUT_MS = FUNCTION_SIZES.delivery.timeoutSeconds * 1000;

async function pendingBatch(count: number) {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  const { invitations } = await invite(stack, admin, org.name, Array.from({ length: count }, () => uniqueAddress('hang')));
  const stored = async (id: string) =>
    (await stack.db.send(new GetCommand({ TableName: stack.tableName, Key: keys.invitation(org.id, id), ConsistentRead: true }))).Item!;
  const records = await Promise.all(invitations.map(async (invitation, i) => streamRecordOf(await stored(invitation.id), String(1000 + i))));
  return { event: { Records: records } as DynamoDBStreamEvent, ids: invitations.map((i) => i.id as string), stored };
}

it(
  'a hanging SES: the first record is reported as a batch item failure after the in-function attempts, well before the timeout; nothing recorded as sent',
  async () => {
    const { event, ids, stored } = await pendingBatch(3);
    const started = performance.now();
    const result = await delivery.handler(event, {});
    const elapsedMs = performance.now() - started;

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1000' }]);
    expect(elapsedMs, `${Math.round(elapsedMs)} ms`).toBeLessThan(delivery.RECORD_WORST_CASE_MS);
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS - FUNCTION_SIZES.delivery.deadlineMarginMs);
    expect(connections).toBeGreaterThanOrEqual(3); // every SES attempt was made and timed out
    for (const id of ids) expect((await stored(id)).emailStatus).toBe('PENDING');
  },
  TIMEOUT_MS + 30_000,
);

it('too little time left for another record: it is deferred (a batch item failure) without starting a send', async () => {
  const { event, ids, stored } = await pendingBatch(2);
  const before = connections;
  const started = performance.now();
  const result = await runWithDeadline({ at: Date.now() + delivery.RECORD_WORST_CASE_MS - 1_000 }, () => delivery.deliverBatch(event));

  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1000' }]);
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(connections).toBe(before);
  for (const id of ids) expect((await stored(id)).emailStatus).toBe('PENDING');
});
