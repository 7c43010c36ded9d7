import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import { invalidInput } from '../../domain/errors.ts';
import { isPastRetention } from '../../domain/invitation.ts';
import type { EventListQuery, EventPage, EventStore } from '../../ports.ts';
import { fromEventItem } from './items.ts';
import { keys } from './keys.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './cursors.ts';
import { call } from './operations.ts';

/** The page a request without `limit` gets: an invitation's whole story is a handful of events. */
export const DEFAULT_EVENT_PAGE_SIZE = 100;

/** The audit trail: an invitation's events, read from their own partition. */
export class DynamoEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Oldest first (the sort key starts with the event's time), strongly consistent, one Query
   * of one item beyond the page (so a cursor is returned only when another page exists). Events
   * past their retention are left out even before TTL deletes them.
   */
  async listInvitationEvents(orgId: number, invitationId: string, query: EventListQuery): Promise<EventPage> {
    const pageSize = query.limit ?? DEFAULT_EVENT_PAGE_SIZE;
    const PK = keys.invitationEvents(orgId, invitationId);
    const { Items } = await call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': PK },
          ScanIndexForward: true,
          ConsistentRead: true,
          Limit: pageSize + 1,
          ExclusiveStartKey: query.cursor === undefined ? undefined : { PK, SK: decodeEventCursor(query.cursor, orgId, invitationId) },
        }),
      ),
    );
    const read = Items ?? [];
    const page = read.slice(0, pageSize);
    const items = page.filter((item) => !isPastRetention(item[tableSchema.ttlAttribute] as number | undefined, query.nowMs)).map(fromEventItem);
    const nextCursor = read.length > pageSize ? encodeEventCursor(orgId, invitationId, page[page.length - 1]!.SK as string) : undefined;
    return { items, nextCursor };
  }
}

/**
 * Opaque to clients: base64url of the organization, the invitation and the last event's sort
 * key. Checked strictly on the way back: a cursor of another invitation, or a forged one, is a
 * 400, never a read of another partition or position.
 */
function encodeEventCursor(orgId: number, invitationId: string, sortKey: string): string {
  return encodeCursor({ o: orgId, i: invitationId, s: sortKey });
}

function decodeEventCursor(cursor: string, orgId: number, invitationId: string): string {
  const { o, i, s } = decodeCursor(cursor);
  // Every event in an invitation's partition has an id under `invitation/<id>/` (events.ts).
  if (typeof s !== 'string' || !s.includes(`#invitation/${invitationId}/`)) throw invalidCursor();
  if (o !== orgId || i !== invitationId) throw invalidInput('cursor belongs to another invitation.');
  return s;
}
