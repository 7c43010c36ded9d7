/**
 * The event-publishing pipe's enrichment (shared/deployment/event-publishing.ts): turns the
 * pipe's batch of table stream records (already filtered to new event items) into the events
 * themselves, plain JSON, one per record and in order. The pipe puts each one on the event bus as
 * `detail`. Pure: no AWS call, nothing to retry here; a record that is not an event is dropped
 * (the pipe's filter lets none through).
 */
import middy from '@middy/core';
import type { DynamoDBRecord } from 'aws-lambda';
import { eventFromStreamRecord } from '../shared/adapters/dynamodb/stream-events.ts';
import type { ServiceEvent } from '../shared/domain/events.ts';
import { observability } from '../shared/observability.ts';

export const handler = middy<DynamoDBRecord[], ServiceEvent[]>()
  .use(observability())
  .handler(async (records) => records.flatMap((record) => eventFromStreamRecord(record) ?? []));
