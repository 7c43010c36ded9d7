import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toEventItem } from '../../shared/adapters/dynamodb/items.ts';
import { eventFromStreamRecord } from '../../shared/adapters/dynamodb/stream-events.ts';
import { invitationEvent } from '../../shared/domain/events.ts';
import { EVENT_PIPE, EVENT_SOURCE, publishedEvent, resolveTargetParameter } from '../../shared/deployment/event-publishing.ts';
import { matchesFilterPattern } from '../../local/stream-poller.ts';
import { eventStreamFilterPattern } from '../../shared/deployment/event-publishing.ts';

const event = invitationEvent({ id: 'inv-1', orgId: 42, orgName: 'acme' }, 'invitation.resent', {
  actor: 'alice',
  nowMs: Date.parse('2026-12-03T10:00:00.000Z'),
  version: 2,
  changes: { deliverySeq: 2, expiresAt: 1_797_000_000, nested: { list: ['a', 1] } },
});

/** The stream record DynamoDB writes for the stored item (DynamoDB JSON). */
const insertOf = (item: Record<string, unknown>, eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord => ({
  eventName,
  dynamodb: { NewImage: marshall(item, { removeUndefinedValues: true }) as never, SequenceNumber: '1' },
});

describe('stream record → event (the enrichment)', () => {
  it('gives back exactly the event model, plain JSON: numbers as numbers, changes as an object', () => {
    expect(eventFromStreamRecord(insertOf(toEventItem(event, 3600)))).toEqual(event);
  });

  it('ignores records that are not new event items', () => {
    expect(eventFromStreamRecord(insertOf({ PK: 'ORG#1', SK: 'ORG', type: 'Organization' }))).toBeUndefined();
    expect(eventFromStreamRecord(insertOf(toEventItem(event, 3600), 'REMOVE'))).toBeUndefined();
  });

  it('lets only inserted event items through the shared filter', () => {
    expect(matchesFilterPattern(eventStreamFilterPattern, insertOf(toEventItem(event, 3600)))).toBe(true);
    expect(matchesFilterPattern(eventStreamFilterPattern, insertOf(toEventItem(event, 3600), 'MODIFY'))).toBe(false);
    expect(matchesFilterPattern(eventStreamFilterPattern, insertOf({ type: 'Invitation', eventType: 'invitation.created' }))).toBe(false);
  });
});

describe('target parameters (what the pipe makes of the event on the bus)', () => {
  it('sets source, detail-type = the event type, time = the event time, and the event as detail', () => {
    expect(publishedEvent({ ...event })).toEqual({ source: EVENT_SOURCE, 'detail-type': 'invitation.resent', time: event.time, detail: event });
    expect(EVENT_PIPE.target).toEqual({ source: EVENT_SOURCE, detailType: '$.type', time: '$.time' });
  });

  it('resolves dot paths and keeps static values', () => {
    expect(resolveTargetParameter('$.a.b', { a: { b: 'x' } })).toBe('x');
    expect(resolveTargetParameter('static', {})).toBe('static');
    expect(() => resolveTargetParameter('$.missing', {})).toThrow('does not resolve');
  });
});
