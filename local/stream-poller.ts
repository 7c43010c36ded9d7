/**
 * Plays the part of Lambda's DynamoDB event source mapping against DynamoDB Local: polls the
 * table's stream with the DynamoDB Streams API, applies the same filter pattern, and hands the
 * delivery function batches shaped like Lambda's DynamoDB stream event, up to the mapping's
 * parallelization factor of them per shard at once (records of one partition key in order). A
 * reported batch item failure is retried from that record (bounded, like the mapping's retry
 * attempts); a record that keeps failing is "dead-lettered" (logged), as the mapping's
 * on-failure destination would.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly filterPattern: unknown;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  readonly batchSize?: number;
  /**
   * Batches of one shard in flight at once (the mapping's parallelization factor, default 1):
   * records are spread over this many lanes by a hash of their partition key, each lane handles
   * its records in order, so one partition key's records stay in order, as on Lambda.
   */
  readonly parallelizationFactor?: number;
  readonly pollIntervalMs?: number;
  /** Retries of a failing record before it is dead-lettered (the CDK mapping uses the same number). */
  readonly retryAttempts?: number;
  readonly retryDelayMs?: number;
  readonly onDeadLetter?: (record: DynamoDBRecord) => void;
  /**
   * Where an earlier poller of the same stream stopped (what its `stop()` returned): it goes on
   * after each shard's checkpoint, and reads shards it never handled a record of from their
   * start, as an event source mapping resumes from its checkpoint once re-enabled. Records after
   * the checkpoint that a lane had already handled are handled again (at least once, as on
   * Lambda). Without it, shards that exist at start are read from now on (LATEST).
   */
  readonly resumeFrom?: StreamCheckpoint;
}

/** Per shard id, the sequence number of the last record that it and every record before it are done with. */
export type StreamCheckpoint = ReadonlyMap<string, string>;

export interface StreamPoller {
  /** Ends after the batches in flight (never mid-batch) and says where to resume. */
  stop(): Promise<StreamCheckpoint>;
}

interface Entry {
  readonly record: DynamoDBRecord;
  /** Handled, filtered out or dead-lettered. */
  done: boolean;
}

/** One partition-key lane of a shard: its matching records, handled in order, one batch at a time. */
interface Lane {
  readonly queue: Entry[];
  attempts: number;
  retryAt: number;
  running: Promise<void> | undefined;
}

interface Shard {
  readonly id: string;
  iterator: string | undefined;
  /** The sequence number of the last record read, if any: where a replaced iterator goes on from. */
  lastRead: string | undefined;
  /** Records read and not yet below the checkpoint, in stream order (done ones included). */
  backlog: Entry[];
  /** The sequence number of the last record that it and every record before it are done with. */
  checkpoint: string | undefined;
  lanes: Lane[];
}

/** Records read ahead of the checkpoint per shard, at most (a lane retrying holds the checkpoint back). */
const READ_AHEAD = 1_000;

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const config = { endpoint: options.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const dynamodb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);

  const batchSize = options.batchSize ?? 10;
  const laneCount = options.parallelizationFactor ?? 1;
  const retryAttempts = options.retryAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const shards = new Map<string, Shard>();
  let firstDiscovery = true;
  let running = true;

  async function discoverShards() {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      // Shards that exist at start are read from now on (or from a checkpoint); shards that
      // appear later from their start.
      const checkpoint = options.resumeFrom?.get(shard.ShardId);
      const iterator = await shardIterator(shard.ShardId, checkpoint, firstDiscovery && !options.resumeFrom ? 'LATEST' : 'TRIM_HORIZON');
      const lanes = Array.from({ length: laneCount }, (): Lane => ({ queue: [], attempts: 0, retryAt: 0, running: undefined }));
      shards.set(shard.ShardId, { id: shard.ShardId, iterator, lastRead: checkpoint, backlog: [], checkpoint, lanes });
    }
    firstDiscovery = false;
  }

  /** Reads the shard's new records: filtered-out ones are done at once, the others join their key's lane. */
  async function readShard(shard: Shard) {
    while (shard.iterator && shard.backlog.length < READ_AHEAD && running) {
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }));
      } catch (error) {
        const name = (error as Error).name;
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
        // An iterator that expired or fell behind the trim horizon is replaced, as Lambda's poller
        // does: after the last record read while that is still kept, else from the oldest kept.
        shard.iterator = await shardIterator(shard.id, name === 'ExpiredIteratorException' ? shard.lastRead : undefined, 'TRIM_HORIZON');
        return; // read on at the next poll
      }
      const { Records, NextShardIterator } = page;
      shard.iterator = NextShardIterator;
      for (const raw of Records ?? []) {
        const sequence = raw.dynamodb?.SequenceNumber;
        if (sequence && shard.lastRead && BigInt(sequence) <= BigInt(shard.lastRead)) continue; // read before the replacement
        shard.lastRead = sequence ?? shard.lastRead;
        const record = toLambdaRecord(raw, streamArn!);
        const entry: Entry = { record, done: !matchesFilterPattern(options.filterPattern, record) };
        shard.backlog.push(entry);
        if (!entry.done) shard.lanes[laneOf(record, laneCount)]!.queue.push(entry);
      }
      advance(shard);
      if (!Records?.length) break;
    }
  }

  /** An iterator of the shard just after the record `after`, or without one at `otherwise`. */
  async function shardIterator(shardId: string, after: string | undefined, otherwise: 'LATEST' | 'TRIM_HORIZON') {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: otherwise }),
      }),
    );
    return ShardIterator;
  }

  /** Starts each idle lane that has records and is not waiting to retry. */
  function dispatch(shard: Shard) {
    for (const lane of shard.lanes) {
      if (lane.running || lane.queue.length === 0 || Date.now() < lane.retryAt) continue;
      lane.running = runLane(shard, lane)
        .catch((error) => console.error('stream poller:', (error as Error).message))
        .finally(() => (lane.running = undefined));
    }
  }

  /** Handles the lane's records batch after batch until it is empty, must wait to retry, or the poller stops. */
  async function runLane(shard: Shard, lane: Lane) {
    while (lane.queue.length > 0 && running && Date.now() >= lane.retryAt) {
      const batch = lane.queue.slice(0, batchSize).map((entry) => entry.record);
      const response = await options.handler({ Records: batch }).catch(() => ({
        // A thrown error fails the whole batch, as on Lambda.
        batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber! }],
      }));
      const failedId = response?.batchItemFailures?.[0]?.itemIdentifier;
      const failedIndex = failedId === undefined ? -1 : batch.findIndex((r) => r.dynamodb?.SequenceNumber === failedId);
      if (failedIndex < 0) {
        done(shard, lane, batch.length);
        lane.attempts = 0;
        continue;
      }
      done(shard, lane, failedIndex); // everything before the failure
      lane.attempts++;
      if (lane.attempts > retryAttempts) {
        options.onDeadLetter?.(batch[failedIndex]!);
        done(shard, lane, 1);
        lane.attempts = 0;
      } else {
        lane.retryAt = Date.now() + retryDelayMs * 2 ** (lane.attempts - 1);
      }
    }
  }

  /** The first `count` records of the lane are done with. */
  function done(shard: Shard, lane: Lane, count: number) {
    for (const entry of lane.queue.splice(0, count)) entry.done = true;
    advance(shard);
  }

  /** The checkpoint moves past the done records before the earliest one not done, in any lane. */
  function advance(shard: Shard) {
    let count = 0;
    while (count < shard.backlog.length && shard.backlog[count]!.done) count++;
    if (count === 0) return;
    shard.checkpoint = shard.backlog[count - 1]!.record.dynamodb?.SequenceNumber ?? shard.checkpoint;
    shard.backlog.splice(0, count);
  }

  const loop = (async () => {
    while (running) {
      try {
        await discoverShards();
        // A closed and drained shard stays listed (no iterator): its checkpoint is still where it ended.
        for (const shard of shards.values()) {
          await readShard(shard);
          dispatch(shard);
        }
      } catch (error) {
        if (running) console.error('stream poller:', (error as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 250));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      await Promise.all([...shards.values()].flatMap((shard) => shard.lanes.map((lane) => lane.running)));
      dynamodb.destroy();
      streams.destroy();
      const checkpoints = new Map<string, string>();
      for (const [id, shard] of shards) if (shard.checkpoint) checkpoints.set(id, shard.checkpoint);
      return checkpoints;
    },
  };
}

/** The lane of a record: a hash (FNV-1a) of its partition key, so one key's records share a lane. */
export function laneOf(record: DynamoDBRecord, laneCount: number): number {
  if (laneCount <= 1) return 0;
  const key = JSON.stringify(record.dynamodb?.Keys?.PK ?? null);
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % laneCount;
}

/** The Streams API's record, in the shape Lambda delivers it (dates as epoch seconds). */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(dynamodb as DynamoDBRecord['dynamodb']),
      ...(ApproximateCreationDateTime && { ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000) }),
    },
  };
}

/**
 * Lambda's filter-pattern matching, the subset shared/deployment/email-delivery-trigger.ts uses:
 * nested objects, arrays of allowed values.
 */
export function matchesFilterPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((allowed) => allowed === value);
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null) return false;
    return Object.entries(pattern).every(([key, sub]) => matchesFilterPattern(sub, (value as Record<string, unknown>)[key]));
  }
  return pattern === value;
}
