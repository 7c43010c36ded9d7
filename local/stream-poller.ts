/**
 * Plays the part of Lambda's DynamoDB event source mapping against DynamoDB Local: polls the
 * table's stream with the DynamoDB Streams API, applies the same filter pattern, and hands the
 * delivery function batches shaped like Lambda's DynamoDB stream event. A reported batch item
 * failure is retried from that record (bounded, like the mapping's retry attempts); a record
 * that keeps failing is "dead-lettered" (logged), as the mapping's on-failure destination would.
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
  readonly pollIntervalMs?: number;
  /** Retries of a failing record before it is dead-lettered (the CDK mapping uses the same number). */
  readonly retryAttempts?: number;
  readonly retryDelayMs?: number;
  readonly onDeadLetter?: (record: DynamoDBRecord) => void;
  /**
   * Where an earlier poller of the same stream stopped (what its `stop()` returned): it goes on
   * after each shard's last handled record, and reads shards it never handled a record of from
   * their start, as an event source mapping resumes from its checkpoint once re-enabled.
   * Without it, shards that exist at start are read from now on (LATEST).
   */
  readonly resumeFrom?: StreamCheckpoint;
}

/** Per shard id, the sequence number of the last record the poller is done with. */
export type StreamCheckpoint = ReadonlyMap<string, string>;

export interface StreamPoller {
  /** Ends after the batch in flight (never mid-batch) and says where to resume. */
  stop(): Promise<StreamCheckpoint>;
}

interface Shard {
  iterator: string | undefined;
  /** Records read but not yet done with (handled, filtered out or dead-lettered), in order. */
  backlog: Array<{ record: DynamoDBRecord; matches: boolean }>;
  /** The sequence number of the last record done with, if any. */
  checkpoint: string | undefined;
  attempts: number;
  retryAt: number;
}

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const config = { endpoint: options.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const dynamodb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);

  const batchSize = options.batchSize ?? 10;
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
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ...(checkpoint
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }
            : { ShardIteratorType: firstDiscovery && !options.resumeFrom ? 'LATEST' : 'TRIM_HORIZON' }),
        }),
      );
      shards.set(shard.ShardId, { iterator: ShardIterator, backlog: [], checkpoint, attempts: 0, retryAt: 0 });
    }
    firstDiscovery = false;
  }

  async function pollShard(shard: Shard) {
    if (shard.backlog.length === 0 && shard.iterator) {
      const { Records, NextShardIterator } = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }));
      shard.iterator = NextShardIterator;
      for (const raw of Records ?? []) {
        const record = toLambdaRecord(raw, streamArn!);
        shard.backlog.push({ record, matches: matchesFilterPattern(options.filterPattern, record) });
      }
    }
    while (shard.backlog.length > 0 && running && Date.now() >= shard.retryAt) {
      // Filtered-out records are done as soon as they are read; a batch is the next matching ones.
      while (shard.backlog[0] && !shard.backlog[0].matches) done(shard, 1);
      const batch = shard.backlog.filter((entry) => entry.matches).slice(0, batchSize).map((entry) => entry.record);
      if (batch.length === 0) break;
      const response = await options.handler({ Records: batch }).catch(() => ({
        // A thrown error fails the whole batch, as on Lambda.
        batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber! }],
      }));
      const failedId = response?.batchItemFailures?.[0]?.itemIdentifier;
      const failed = failedId === undefined ? undefined : batch.find((r) => r.dynamodb?.SequenceNumber === failedId);
      if (!failed) {
        done(shard, shard.backlog.findIndex((entry) => entry.record === batch.at(-1)) + 1);
        shard.attempts = 0;
        continue;
      }
      done(shard, shard.backlog.findIndex((entry) => entry.record === failed)); // everything before the failure
      shard.attempts++;
      if (shard.attempts > retryAttempts) {
        options.onDeadLetter?.(failed);
        done(shard, 1);
        shard.attempts = 0;
      } else {
        shard.retryAt = Date.now() + retryDelayMs * 2 ** (shard.attempts - 1);
      }
    }
  }

  /** The first `count` records of the backlog are done with: the checkpoint moves past them. */
  function done(shard: Shard, count: number) {
    if (count <= 0) return;
    shard.checkpoint = shard.backlog[count - 1]!.record.dynamodb?.SequenceNumber ?? shard.checkpoint;
    shard.backlog.splice(0, count);
  }

  const loop = (async () => {
    while (running) {
      try {
        await discoverShards();
        // A closed and drained shard stays listed (no iterator): its checkpoint is still where it ended.
        for (const shard of shards.values()) await pollShard(shard);
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
      dynamodb.destroy();
      streams.destroy();
      const checkpoints = new Map<string, string>();
      for (const [id, shard] of shards) if (shard.checkpoint) checkpoints.set(id, shard.checkpoint);
      return checkpoints;
    },
  };
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
