/**
 * The load test's floor (bench/load.ts): every DynamoDB command a run's functions send is recorded
 * per invocation (local/lambda-runtime.ts `currentInvocation`), then replayed directly with the
 * SDK into a fresh DynamoDB Local: the same DynamoDB work without HTTP, the gateway, the
 * authorizer, the handlers and SES. Also the two small helpers both halves use.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as documentCommands from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DELIVERY_STREAM } from '../shared/deployment/email-delivery-trigger.ts';
import { createTable } from '../local/create-table.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { currentInvocation } from '../local/lambda-runtime.ts';
import { observeDynamoDbCommands } from './dynamodb-meter.ts';

/** Per function, each invocation's (or replayed unit's) time in ms. */
export interface Latencies {
  [fn: string]: number[];
}

export interface ReplayOptions {
  /** The table the replay creates and writes to. */
  readonly table: string;
  /** API invocations replayed at once (the load test's concurrency). */
  readonly concurrency: number;
}

export interface RecordedInvocation {
  functionName: string;
  commands: Array<{ name: string; input: Record<string, unknown> }>;
  /** For delivery work split per record: the invitation item it is about ("PK|SK"). */
  item?: string;
}

/** Records every DynamoDB command by the invocation that sent it, in the order invocations began. */
export function commandRecorder() {
  let recording: Map<string, RecordedInvocation> | undefined;
  observeDynamoDbCommands((name, input) => {
    const invocation = currentInvocation();
    if (!recording || !invocation) return;
    let entry = recording.get(invocation.id);
    if (!entry) recording.set(invocation.id, (entry = { functionName: invocation.functionName, commands: [] }));
    entry.commands.push({ name, input: structuredClone(input) });
  });
  return {
    start() {
      recording = new Map();
    },
    stop(): RecordedInvocation[] {
      const done = [...(recording?.values() ?? [])];
      recording = undefined;
      return done;
    },
  };
}

const DOCUMENT_COMMANDS: Record<string, new (input: never) => documentCommands.GetCommand> = {
  GetItemCommand: documentCommands.GetCommand,
  BatchGetItemCommand: documentCommands.BatchGetCommand,
  QueryCommand: documentCommands.QueryCommand,
  PutItemCommand: documentCommands.PutCommand,
  UpdateItemCommand: documentCommands.UpdateCommand,
  DeleteItemCommand: documentCommands.DeleteCommand,
  TransactWriteItemsCommand: documentCommands.TransactWriteCommand,
  TransactGetItemsCommand: documentCommands.TransactGetCommand,
  BatchWriteItemCommand: documentCommands.BatchWriteCommand,
} as never;

const EVENT_DRIVEN = new Set(['deliverInvitationEmails', 'sweepPendingEmails']);

/**
 * Replays a run's recorded commands into a fresh table of the same schema: the API invocations
 * at `concurrency` (each invocation's commands in order, as its handler sent them), the
 * delivery and sweep work beside them, per record. Conditional failures are counted,
 * not fatal: a replayed delivery can overtake the create it follows.
 */
export async function replayFloor(recorded: RecordedInvocation[], options: ReplayOptions) {
  const dynamodb = await startDynamoDbLocal({ inMemory: true, jvm: 'throughput' });
  const raw = localDynamoDbClient(dynamodb.endpoint);
  try {
    return await replayInto(raw, recorded, options);
  } finally {
    raw.destroy();
    await dynamodb.stop();
  }
}

async function replayInto(raw: DynamoDBClient, recorded: RecordedInvocation[], { table, concurrency }: ReplayOptions) {
  await createTable(raw, table);
  // The recorder sees the document client's native input under the low-level command's name.
  const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const latencies: Latencies = {};
  let conditionFailures = 0;
  let lockRetries = 0;
  // Delivery work on an invitation starts once the floor has written it, as the stream only
  // hands the delivery an invitation after its create: no replay fails for want of its item.
  const written = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const writtenItem = (item: string) => {
    let entry = written.get(item);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      written.set(item, (entry = { promise, resolve }));
    }
    return entry;
  };
  const replay = async (invocation: RecordedInvocation) => {
    if (invocation.item) await writtenItem(invocation.item).promise;
    const t0 = performance.now();
    for (const command of invocation.commands) {
      const Command = DOCUMENT_COMMANDS[command.name];
      if (!Command) throw new Error(`cannot replay ${command.name}`);
      for (let attempt = 1; ; attempt++) {
        try {
          await db.send(new Command(retarget(command.input, table) as never));
          const puts = (command.input as { TransactItems?: Array<{ Put?: { Item?: Record<string, unknown> } }> }).TransactItems ?? [];
          for (const { Put } of puts) if (Put?.Item) writtenItem(`${String(Put.Item.PK)}|${String(Put.Item.SK)}`).resolve();
          break;
        } catch (error) {
          const name = (error as Error).name;
          // DynamoDB Local's lock timeout under contention ("will succeed in actual DynamoDB"): again.
          if (name === 'InternalServerError' && attempt < 10) {
            lockRetries++;
            continue;
          }
          if (name !== 'ConditionalCheckFailedException' && name !== 'TransactionCanceledException') throw error;
          conditionFailures++;
          break;
        }
      }
    }
    (latencies[`${invocation.functionName}`] ??= []).push(performance.now() - t0);
  };
  const organizations = recorded.filter((invocation) => invocation.functionName === 'createOrganization');
  await pool(organizations, concurrency, replay);
  const api = recorded.filter((invocation) => invocation.functionName !== 'createOrganization' && !EVENT_DRIVEN.has(invocation.functionName));
  // The delivery function works on a batch's records at once, and the poller keeps
  // parallelizationFactor batches in flight: replay per record (the commands on one invitation),
  // as many at once.
  const delivery = recorded.filter((invocation) => EVENT_DRIVEN.has(invocation.functionName)).flatMap(perRecord);
  const t0 = performance.now();
  let apiEnded = 0;
  const deliveryRun = pool(delivery, DELIVERY_STREAM.parallelizationFactor * DELIVERY_STREAM.batchSize, replay);
  await pool(api, concurrency, replay);
  apiEnded = performance.now();
  await deliveryRun;
  return {
    latencies,
    apiSeconds: (apiEnded - t0) / 1000,
    deliverySecondsAfterApi: Math.max(0, performance.now() - apiEnded) / 1000,
    conditionFailures,
    lockRetries,
  };
}

export type Floor = Awaited<ReturnType<typeof replayFloor>>;

/** Invocations per function in a run's recording. */
export function invocationCounts(recorded: RecordedInvocation[]) {
  return Object.fromEntries(
    [...new Set(recorded.map((invocation) => invocation.functionName))].map((fn) => [fn, recorded.filter((invocation) => invocation.functionName === fn).length]),
  );
}

/** An event-driven invocation's commands split by the item they are about (a sweep's Queries stay together). */
function perRecord(invocation: RecordedInvocation): RecordedInvocation[] {
  const units = new Map<string, RecordedInvocation>();
  for (const command of invocation.commands) {
    const input = command.input as { Key?: Record<string, unknown>; TransactItems?: Array<{ Update?: { Key?: Record<string, unknown> } }> };
    const key = input.Key ?? input.TransactItems?.find((item) => item.Update?.Key)?.Update?.Key;
    const unit = key ? `${String(key.PK)}|${String(key.SK)}` : '';
    let entry = units.get(unit);
    if (!entry) units.set(unit, (entry = { functionName: invocation.functionName, commands: [], ...(unit && { item: unit }) }));
    entry.commands.push(command);
  }
  return [...units.values()];
}

/** The command input with every table name replaced (TableName fields and BatchGetItem's RequestItems keys), no idempotency token. */
function retarget(input: unknown, table: string): unknown {
  if (Array.isArray(input)) return input.map((value) => retarget(value, table));
  if (input === null || typeof input !== 'object' || input instanceof Uint8Array) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'ClientRequestToken') continue; // the SDK makes a fresh one; a replayed one would clash
    if (key === 'TableName') out[key] = table;
    else if (key === 'RequestItems') out[key] = Object.fromEntries(Object.values(value as object).map((request) => [table, retarget(request, table)]));
    else out[key] = retarget(value, table);
  }
  return out;
}

export function localDynamoDbClient(endpoint: string) {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}
