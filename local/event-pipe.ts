/**
 * The event-publishing pipe run locally from the same settings as the CDK pipe
 * (shared/deployment/event-publishing.ts): the table stream, through the same filter, in
 * batches of the same size, to the same enrichment handler; each event it returns is put on the
 * local bus with the same target parameters. A batch whose put fails is retried from the failed
 * record (the pipe bisects and retries); after the same number of retries the record is
 * dead-lettered (the local bus's dead-letter file) and later records go on.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_PIPE, eventStreamFilterPattern, publishedEvent } from '../shared/deployment/event-publishing.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import type { LocalEventBus } from './event-bus.ts';
import { invoke, type LambdaHandler } from './lambda-runtime.ts';
import { startStreamPoller, type StreamPoller } from './stream-poller.ts';

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..');

export interface EventPipeOptions {
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly bus: LocalEventBus;
  /** Delay before the first retry (doubling), in ms. */
  readonly retryDelayMs?: number;
}

export async function startEventPipe(options: EventPipeOptions): Promise<StreamPoller> {
  const module = await import(pathToFileURL(join(repoRoot, EVENT_PIPE.enrichmentEntry)).href);
  const enrich = module.handler as LambdaHandler;
  const { timeoutSeconds } = FUNCTION_SIZES.events;

  return startStreamPoller({
    endpoint: options.dynamodbEndpoint,
    tableName: options.tableName,
    filterPattern: eventStreamFilterPattern,
    batchSize: EVENT_PIPE.batchSize,
    retryAttempts: EVENT_PIPE.retryAttempts,
    retryDelayMs: options.retryDelayMs,
    handler: async (event): Promise<DynamoDBBatchResponse> => {
      // The enrichment gets the batch as an array of records, as Pipes invokes it, and returns
      // one event per record, in order (the filter lets only event items through).
      const events = (await invoke(enrich, event.Records, 'renderEvents', timeoutSeconds * 1000)) as Record<string, unknown>[];
      for (const [index, payload] of events.entries()) {
        try {
          options.bus.put(publishedEvent(payload));
        } catch (error) {
          console.error(`event pipe: ${(error as Error).message}; retrying`);
          return { batchItemFailures: [{ itemIdentifier: event.Records[index]!.dynamodb!.SequenceNumber! }] };
        }
      }
      return { batchItemFailures: [] };
    },
    onDeadLetter: (record: DynamoDBRecord) => {
      console.error(`event pipe: record ${record.dynamodb?.SequenceNumber} dead-lettered after ${EVENT_PIPE.retryAttempts} retries`);
      options.bus.deadLetter({ record, reason: 'retries exhausted' });
    },
  });
}
