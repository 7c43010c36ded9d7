/**
 * Events reach the bus from the table's stream: an event item written with putEvent (as every
 * change records its event) is published once, through the local pipe (same filter, batch size,
 * enrichment handler, target parameters and retries as the CDK pipe), to the local bus, which
 * serves what it got at GET /_local/events. A failing put (injected: EventBridge cannot be made to
 * fail on purpose) is retried, then dead-lettered, and later events still go out.
 */
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { putEvent } from '../../shared/adapters/dynamodb/items.ts';
import { invitationEvent, memberEvent, type ServiceEvent } from '../../shared/domain/events.ts';
import { EVENT_PIPE, EVENT_SOURCE, type PublishedEvent } from '../../shared/deployment/event-publishing.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const { stack } = useTestStack(RELAXED_RATE_LIMITS, { eventPublishing: true });
const RETENTION_SECONDS = 30 * 24 * 3600;

async function record(event: ServiceEvent) {
  await stack.db.send(new TransactWriteCommand({ TransactItems: [putEvent(stack.tableName, event, RETENTION_SECONDS)] }));
}

/** What GET /_local/events serves, for these ids. */
async function published(ids: readonly string[]): Promise<PublishedEvent[]> {
  const response = await fetch(`${stack.url}/_local/events`);
  expect(response.status).toBe(200);
  const all = (await response.json()) as PublishedEvent[];
  return all.filter((entry) => ids.includes(entry.detail.id as string));
}

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const anInvitation = () => ({ id: randomUUID(), orgId: 1_000_000 + Math.floor(Math.random() * 1_000_000), orgName: `org-${randomUUID().slice(0, 8)}` });

describe('event publishing (table stream → pipe → bus)', () => {
  it('publishes a recorded event once, with the documented source, detail-type, time and detail', async () => {
    const invitation = anInvitation();
    const event = invitationEvent(invitation, 'invitation.created', {
      actor: 'alice',
      nowMs: Date.parse('2026-12-03T10:00:00.000Z'),
      changes: { status: 'PENDING', userEmail: 'bob@example.com', associationType: 'ADMIN', expiresAt: 1_797_000_000 },
    });
    await record(event);

    const entries = await waitFor(() => published([event.id]), (found) => found.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // a second copy would show by now
    expect(await published([event.id])).toHaveLength(1);
    expect(entries[0]).toEqual({
      source: EVENT_SOURCE,
      'detail-type': 'invitation.created',
      time: '2026-12-03T10:00:00.000Z',
      // Exactly the event model: orgId a number, changes a plain object (not DynamoDB JSON).
      detail: {
        id: `invitation/${invitation.id}/invitation.created`,
        type: 'invitation.created',
        time: '2026-12-03T10:00:00.000Z',
        orgId: invitation.orgId,
        orgName: invitation.orgName,
        invitationId: invitation.id,
        actor: 'alice',
        changes: { status: 'PENDING', userEmail: 'bob@example.com', associationType: 'ADMIN', expiresAt: 1_797_000_000 },
      },
    });
    expect(entries[0]!.detail).toEqual(event);
  });

  it('publishes a member event without an invitation without invitationId', async () => {
    const org = { id: 2_000_000 + Math.floor(Math.random() * 1_000_000), name: `org-${randomUUID().slice(0, 8)}` };
    const event = memberEvent(org, 'organization.member.removed', { userId: `u-${randomUUID()}`, actor: 'admin-1', nowMs: Date.now() });
    await record(event);
    const [entry] = await waitFor(() => published([event.id]), (found) => found.length > 0);
    expect(entry?.detail).toEqual(event);
    expect(entry?.detail).not.toHaveProperty('invitationId');
    expect(entry?.['detail-type']).toBe('organization.member.removed');
  });

  it('publishes nothing for an item that is not an event', async () => {
    const marker = randomUUID();
    // Looks like an event in every field but its item type: the filter must drop it.
    await stack.db.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: { PK: `EVENTS#X#${marker}`, SK: 'x', type: 'Invitation', eventId: marker, eventType: 'invitation.created', time: new Date().toISOString() },
      }),
    );
    // An event written after it is published; by then the earlier record has long been read.
    const after = invitationEvent(anInvitation(), 'invitation.revoked', { actor: 'alice', nowMs: Date.now() });
    await record(after);
    await waitFor(() => published([after.id]), (found) => found.length > 0);
    const all = stack.eventBus!.events;
    expect(all.some((entry) => entry.detail.id === after.id)).toBe(true);
    expect(all.some((entry) => JSON.stringify(entry).includes(marker))).toBe(false);
  });

  it('retries a failing put, dead-letters the event after the retries, and publishes later events', { timeout: 60_000 }, async () => {
    const bus = stack.eventBus!;
    const failing = invitationEvent(anInvitation(), 'invitation.accepted', { actor: 'bob', nowMs: Date.now() });
    const later = invitationEvent(anInvitation(), 'invitation.rejected', { actor: 'carol', nowMs: Date.now() });
    let attempts = 0;
    bus.fault = (entry) => {
      if (entry.detail.id !== failing.id) return undefined;
      attempts++;
      return new Error('ThrottlingException (injected)');
    };
    try {
      await record(failing);
      await record(later);
      await waitFor(async () => bus.deadLetters.length, () => bus.deadLetters.some((d) => JSON.stringify(d).includes(failing.id)), 45_000);
      const [laterEntry] = await waitFor(() => published([later.id]), (found) => found.length > 0);

      expect(attempts).toBe(EVENT_PIPE.retryAttempts + 1); // the first try and every retry
      expect(bus.deadLetters.filter((d) => JSON.stringify(d).includes(failing.id))).toHaveLength(1);
      expect(await published([failing.id])).toEqual([]);
      expect(laterEntry?.detail).toEqual(later);
    } finally {
      bus.fault = undefined;
    }
  });
});
