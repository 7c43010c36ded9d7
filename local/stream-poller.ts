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
}

export interface StreamPoller {
  stop(): Promise<void>;
}

interface Shard {
  iterator: string | undefined;
  /** Records read but not yet handled successfully, in order. */
  backlog: DynamoDBRecord[];
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
      // Shards that exist at start are read from now on; shards that appear later from their start.
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: firstDiscovery ? 'LATEST' : 'TRIM_HORIZON',
        }),
      );
      shards.set(shard.ShardId, { iterator: ShardIterator, backlog: [], attempts: 0, retryAt: 0 });
    }
    firstDiscovery = false;
  }

  async function pollShard(shard: Shard) {
    if (shard.backlog.length === 0 && shard.iterator) {
      const { Records, NextShardIterator } = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }));
      shard.iterator = NextShardIterator;
      shard.backlog.push(
        ...(Records ?? []).map((record) => toLambdaRecord(record, streamArn!)).filter((r) => matchesFilterPattern(options.filterPattern, r)),
      );
    }
    while (shard.backlog.length > 0 && running && Date.now() >= shard.retryAt) {
      const batch = shard.backlog.slice(0, batchSize);
      const response = await options.handler({ Records: batch }).catch(() => ({
        // A thrown error fails the whole batch, as on Lambda.
        batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber! }],
      }));
      const failedId = response?.batchItemFailures?.[0]?.itemIdentifier;
      const failedIndex = failedId === undefined ? -1 : batch.findIndex((r) => r.dynamodb?.SequenceNumber === failedId);
      if (failedIndex === -1) {
        shard.backlog.splice(0, batch.length);
        shard.attempts = 0;
        continue;
      }
      shard.backlog.splice(0, failedIndex); // everything before the failure is done
      shard.attempts++;
      if (shard.attempts > retryAttempts) {
        options.onDeadLetter?.(shard.backlog.shift()!);
        shard.attempts = 0;
      } else {
        shard.retryAt = Date.now() + retryDelayMs * 2 ** (shard.attempts - 1);
      }
    }
  }

  const loop = (async () => {
    while (running) {
      try {
        await discoverShards();
        for (const [id, shard] of shards) {
          await pollShard(shard);
          if (!shard.iterator && shard.backlog.length === 0) shards.delete(id); // closed and drained
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
      dynamodb.destroy();
      streams.destroy();
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
