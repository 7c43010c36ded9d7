/**
 * GET /v1/organizations/{orgName}/invitations on a large history: every request reads a bounded
 * number of items (MAX_ITEMS_READ_PER_LIST) in a few Query calls, whatever the filter; paging a
 * sparse filter with the cursors returns every match exactly once; a request without `limit`
 * returns at most UNPAGED_LIST_MAXIMUM invitations with X-Next-Cursor.
 *
 * The history (1,500 invitations) is written directly with BatchWriteItem, in the exact item
 * shape the service writes (toInvitationItem), since creating it through the API would take
 * minutes. DynamoDB calls and items read are counted with SDK middleware on the handlers' own
 * client (bench/dynamodb-meter.ts), per request.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { installDynamoDbMeter, meterReading, setMeterLabel } from '../../bench/dynamodb-meter.ts';
import { MAX_ITEMS_READ_PER_LIST, UNPAGED_LIST_MAXIMUM } from '../../shared/adapters/dynamodb/invitation-store.ts';
import { toInvitationItem } from '../../shared/adapters/dynamodb/items.ts';
import { answeredInvitationTtl, newInvitation, type Invitation, type InvitationTimings } from '../../shared/domain/invitation.ts';
import { createOrganization, paths, type TestUser } from '../support/fixtures.ts';
import { useTestStack, type ApiResponse } from '../support/stack.ts';

const { stack, user } = useTestStack();

/** The service defaults: the seeded items carry the TTLs the service would give them. */
const TIMINGS: InvitationTimings = { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 };
const TOTAL = 1_500;
/** Every 97th invitation (oldest first) is ACCEPTED: 16 matches spread over the whole history. */
const isAccepted = (index: number) => index % 97 === 0;
/** Query calls one request may make: the first reads a page + 1, each further up to 10× more. */
const MAX_QUERIES = 4;

let admin: TestUser;
let org: { id: number; name: string };
/** All ids, newest first, and the ACCEPTED ones. */
let newestFirst: string[];
let acceptedNewestFirst: string[];

beforeAll(async () => {
  installDynamoDbMeter();
  admin = user('admin');
  org = await createOrganization(stack, admin);
  const start = Date.now() - TOTAL * 1000;
  const invitations: Invitation[] = [];
  for (let index = 0; index < TOTAL; index++) {
    const createdMs = start + index * 1000;
    const email = `bulk-${index}@example.com`;
    const pending = newInvitation(
      { id: crypto.randomUUID(), org, email: { address: email, normalized: email }, inviter: { userId: admin.sub, email: admin.email, emailVerified: true, username: 'admin', isRealmAdmin: false } },
      createdMs,
      TIMINGS,
    );
    const delivered = { ...pending, emailStatus: 'SENT' as const, deliveredSeq: 1, sendCount: 1, lastSentAt: pending.createdAt };
    invitations.push(
      isAccepted(index)
        ? { ...delivered, status: 'ACCEPTED', userId: `bulk-user-${index}`, respondedAt: new Date(createdMs + 500).toISOString() }
        : delivered,
    );
  }
  const items = invitations.map((invitation) => {
    const item = toInvitationItem(invitation, TIMINGS);
    // An answered invitation's TTL, as answer() sets it.
    if (invitation.respondedAt) item.ttl = answeredInvitationTtl(Date.parse(invitation.respondedAt), TIMINGS);
    return item;
  });
  for (let i = 0; i < items.length; i += 25) {
    let requests: any[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const { UnprocessedItems } = await stack.db.send(new BatchWriteCommand({ RequestItems: { [stack.tableName]: requests } }));
      requests = UnprocessedItems?.[stack.tableName] ?? [];
    }
  }
  newestFirst = invitations.map((i) => i.id).reverse();
  acceptedNewestFirst = invitations.filter((i) => i.status === 'ACCEPTED').map((i) => i.id).reverse();
}, 120_000);

// ---------------------------------------------------------------------------------------------
// Helpers

let requestCount = 0;

/** One list request, with the DynamoDB Query calls and items read it caused. */
async function list(query: Record<string, string | number>) {
  const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const label = `list-${++requestCount}`;
  setMeterLabel(label);
  let response: ApiResponse<any[]>;
  try {
    response = await stack.api.get(`${paths.invitations(org.name)}${search ? `?${search}` : ''}`, { token: admin.token });
  } finally {
    setMeterLabel(undefined);
  }
  expect(response.status, response.text).toBe(200);
  const reading = meterReading(label);
  return {
    response,
    ids: response.body.map((i) => i.id as string),
    cursor: response.headers.get('x-next-cursor'),
    queries: reading.commands.QueryCommand ?? 0,
    itemsRead: reading.itemsRead,
  };
}

/** Follows the cursors to the end; every request must stay within the bound. */
async function pageThrough(query: Record<string, string | number>) {
  const pages: Awaited<ReturnType<typeof list>>[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(cursor === null ? query : { ...query, cursor });
    expect(page.queries, 'Query calls of one request').toBeLessThanOrEqual(MAX_QUERIES);
    expect(page.itemsRead, 'items read by one request').toBeLessThanOrEqual(MAX_ITEMS_READ_PER_LIST);
    pages.push(page);
    cursor = page.cursor;
    if (pages.length > TOTAL) throw new Error('paging does not terminate');
  } while (cursor !== null);
  return pages;
}

// ---------------------------------------------------------------------------------------------

describe('a filter on a large history', () => {
  it('?status=ACCEPTED&limit=1 reads at most 1,000 items, in at most 4 Query calls', async () => {
    const first = await list({ status: 'ACCEPTED', limit: 1 });

    expect(first.queries).toBeGreaterThan(0);
    expect(first.queries).toBeLessThanOrEqual(MAX_QUERIES);
    expect(first.itemsRead).toBeLessThanOrEqual(MAX_ITEMS_READ_PER_LIST);
    expect(first.ids).toEqual([acceptedNewestFirst[0]]);
    expect(first.cursor).toBeTruthy();
  });

  it.each([1, 5, 100])('paging ?status=ACCEPTED&limit=%i returns every match exactly once, newest first', async (limit) => {
    const pages = await pageThrough({ status: 'ACCEPTED', limit });

    expect(pages.flatMap((p) => p.ids)).toEqual(acceptedNewestFirst);
    for (const page of pages) expect(page.ids.length).toBeLessThanOrEqual(limit);
    // 1,500 items at ≤ 1,000 per request: at least two requests, whatever the limit.
    expect(pages.length).toBeGreaterThanOrEqual(2);
  });

  it('a filter that matches nothing answers an empty page with a cursor after the first 1,000 items read, then the end', async () => {
    const pages = await pageThrough({ status: 'REJECTED', limit: 10 });

    expect(pages.map((p) => p.ids)).toEqual([[], []]);
    expect(pages[0]!.itemsRead).toBe(MAX_ITEMS_READ_PER_LIST);
    expect(pages[0]!.cursor).toBeTruthy();
    expect(pages[1]!.itemsRead).toBe(TOTAL - MAX_ITEMS_READ_PER_LIST);
    expect(pages[1]!.cursor).toBeNull();
  });

  it('without a filter, a page of limit=N still reads N + 1 items in one Query', async () => {
    const page = await list({ limit: 20 });
    expect(page.ids).toEqual(newestFirst.slice(0, 20));
    expect(page.queries).toBe(1);
    expect(page.itemsRead).toBe(21);
  });
});

describe('without limit (the Jaqpot client, which cannot page)', () => {
  it('answers the newest 1,000 as a plain array, with X-Next-Cursor, well below 6 MB', async () => {
    const page = await list({});

    expect(UNPAGED_LIST_MAXIMUM).toBe(1_000);
    expect(page.ids).toEqual(newestFirst.slice(0, UNPAGED_LIST_MAXIMUM));
    expect(page.cursor).toBeTruthy();
    expect(page.itemsRead).toBeLessThanOrEqual(MAX_ITEMS_READ_PER_LIST);
    const bytes = Buffer.byteLength(page.response.text);
    expect(bytes / UNPAGED_LIST_MAXIMUM, 'bytes per invitation').toBeLessThan(600);
    expect(bytes).toBeLessThan(1_000_000);
  });

  it('the cursor alone (still no limit) gives the rest, and then no cursor', async () => {
    const first = await list({});
    const second = await list({ cursor: first.cursor! });

    expect(second.ids).toEqual(newestFirst.slice(UNPAGED_LIST_MAXIMUM));
    expect(second.cursor).toBeNull();
    expect([...first.ids, ...second.ids]).toEqual(newestFirst);
  });

  it('with a filter, it is bounded the same way and pages to every match', async () => {
    const pages = await pageThrough({ status: 'ACCEPTED' });
    expect(pages.flatMap((p) => p.ids)).toEqual(acceptedNewestFirst);
  });
});
