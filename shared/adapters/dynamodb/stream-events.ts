/**
 * The event a table stream record carries: the record's new image (DynamoDB JSON) as the event
 * model, plain JSON. What the pipe's enrichment returns, so what a consumer finds in `detail`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { ServiceEvent } from '../../domain/events.ts';
import { fromEventItem } from './items.ts';

/** The event of a stream record, or undefined when the record is not a new event item. */
export function eventFromStreamRecord(record: DynamoDBRecord): ServiceEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  return item.type === 'Event' ? fromEventItem(item) : undefined;
}
