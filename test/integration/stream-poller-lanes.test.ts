/**
 * The local event source mapping's parallelization factor (local/stream-poller.ts) on DynamoDB
 * Local's stream: batches of different partition keys in flight together, each key's records
 * in order, and a checkpoint taken while lanes are at different places that loses nothing on
 * resume (records re-delivered are only ones already handled, as Lambda's at-least-once allows).
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, expect, inject, it } from 'vitest';
import { createTable } from '../../local/create-table.ts';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller.ts';
import { sleep } from '../support/emails.ts';

const endpoint = inject('dynamodbEndpoint');
const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const filterPattern = { eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['Probe'] } } } };
let tableName: string;
// A fresh table per test, read from its start (an empty checkpoint: every shard from TRIM_HORIZON).
beforeEach(async () => {
  tableName = `test-lanes-${randomUUID()}`;
  await createTable(client, tableName);
});
afterAll(() => client.destroy());
const fromStart = new Map<string, string>();

const KEYS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

/** Writes `perKey` items under each partition key, interleaved; `n` numbers them in write order per key. */
async function writeItems(run: string, perKey: number, from = 0) {
  for (let n = from; n < from + perKey; n++) {
    for (const key of KEYS) {
      await client.send(
        new PutItemCommand({ TableName: tableName, Item: { PK: { S: `${run}#${key}` }, SK: { S: `N#${n}` }, type: { S: 'Probe' }, n: { N: String(n) } } }),
      );
    }
  }
}

/** A handler that takes `ms` per batch and records what it saw, per partition key, and the most batches at once. */
function recordingHandler(ms: number) {
  const seen = new Map<string, number[]>();
  let inFlight = 0;
  let peak = 0;
  const handler = async (event: DynamoDBStreamEvent) => {
    peak = Math.max(peak, ++inFlight);
    await sleep(ms);
    for (const record of event.Records) {
      const image = record.dynamodb!.NewImage!;
      const key = image.PK!.S!;
      seen.set(key, [...(seen.get(key) ?? []), Number(image.n!.N)]);
    }
    inFlight--;
    return { batchItemFailures: [] };
  };
  return { handler, seen, peak: () => peak, total: () => [...seen.values()].reduce((sum, list) => sum + list.length, 0) };
}

/** Waits until `done()` holds (at most 30 s; the assertions after it then say what was wrong). */
async function waitFor(done: () => boolean) {
  const deadline = Date.now() + 30_000;
  while (!done() && Date.now() < deadline) await sleep(20);
}

let poller: StreamPoller | undefined;
afterAll(async () => {
  await poller?.stop();
});

it('with factor 4, batches of different partition keys are in flight together and each key is handled in order', async () => {
  const recording = recordingHandler(30);
  poller = await startStreamPoller({ endpoint, tableName, filterPattern, handler: recording.handler, batchSize: 3, parallelizationFactor: 4, pollIntervalMs: 20, resumeFrom: fromStart });
  await writeItems('order', 6);
  await waitFor(() => recording.total() >= KEYS.length * 6);
  await poller.stop();
  poller = undefined;

  expect(recording.peak()).toBeGreaterThan(1);
  expect(recording.peak()).toBeLessThanOrEqual(4);
  for (const key of KEYS) expect(recording.seen.get(`order#${key}`), key).toEqual([0, 1, 2, 3, 4, 5]);
});

it('with factor 1 (the event pipe), one batch at a time', async () => {
  const recording = recordingHandler(10);
  poller = await startStreamPoller({ endpoint, tableName, filterPattern, handler: recording.handler, batchSize: 3, pollIntervalMs: 20, resumeFrom: fromStart });
  await writeItems('single', 3);
  await waitFor(() => recording.total() >= KEYS.length * 3);
  await poller.stop();
  poller = undefined;

  expect(recording.peak()).toBe(1);
  for (const key of KEYS) expect(recording.seen.get(`single#${key}`)).toEqual([0, 1, 2]);
});

it('a checkpoint taken with lanes at different places: resuming loses nothing and re-delivers only records already handled', async () => {
  const first = recordingHandler(40);
  poller = await startStreamPoller({ endpoint, tableName, filterPattern, handler: first.handler, batchSize: 2, parallelizationFactor: 4, pollIntervalMs: 20, resumeFrom: fromStart });
  await writeItems('resume', 8);
  // Stop part-way: some lanes further on than others.
  await waitFor(() => first.total() >= 20);
  const checkpoint = await poller.stop();
  expect(first.total()).toBeLessThan(KEYS.length * 8);
  await writeItems('resume', 2, 8); // written while paused

  const second = recordingHandler(5);
  poller = await startStreamPoller({ endpoint, tableName, filterPattern, handler: second.handler, batchSize: 2, parallelizationFactor: 4, pollIntervalMs: 20, resumeFrom: checkpoint });
  await waitFor(() => KEYS.every((key) => new Set([...(first.seen.get(`resume#${key}`) ?? []), ...(second.seen.get(`resume#${key}`) ?? [])]).size === 10));
  await sleep(200); // nothing more is coming
  await poller.stop();
  poller = undefined;

  for (const key of KEYS) {
    const before = first.seen.get(`resume#${key}`) ?? [];
    const after = second.seen.get(`resume#${key}`) ?? [];
    // Each key in order on both sides, together every record, and the resumed poller repeats only
    // what the first one had handled.
    expect(before).toEqual([...before].sort((a, b) => a - b));
    expect(after).toEqual([...after].sort((a, b) => a - b));
    expect(new Set([...before, ...after])).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const repeated = after.filter((n) => before.includes(n));
    expect(after.slice(0, repeated.length), `${key}: only a prefix of what it handled again`).toEqual(repeated);
  }
});
