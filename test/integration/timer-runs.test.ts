/**
 * One run of the timer function against DynamoDB Local, with due entries written straight into
 * the table (as create writes them, with lifetimes that began in the past): a run fires every due
 * entry of every shard exactly once, with many in flight; a run that reaches its time budget
 * stops starting firings and leaves the rest, untouched, to the next run; and entries written
 * under the old shard count (16) are still found and fired after it grew (TIMER_SHARDS, 64). And
 * the timer function as scheduled, one invocation per timer worker: each fires its own shards
 * only, together they fire everything once, and an event without a valid worker fires nothing.
 *
 * No stream, delivery function or scheduled timers run here: each test drives the runs itself.
 */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { toInvitationItem, type Item } from '../../shared/adapters/dynamodb/items.ts';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { runWithDeadline } from '../../shared/deadline.ts';
import { newInvitation, type Invitation, type InvitationTimings } from '../../shared/domain/invitation.ts';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { shardOf, TIMER_WORKERS, timerShardsOfWorker } from '../../shared/domain/sharding.ts';
import { TIMER_SHARDS } from '../../shared/domain/timers.ts';
import type { TimerStore } from '../../shared/ports.ts';
import { fireDueTimers, type TimerDeps, type TimerRunLimits, type TimerRunResult } from '../../shared/services/timers.ts';
import { createTimerDependencies } from '../../shared/wiring.ts';
import { useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack } = useTestStack({});

/**
 * Reminders 500 s before expiry; lifetimes of 1,000 s (the store only reads the reminder lead and
 * lifetime). Wide, so that a slow run on a loaded machine never reaches a reminded entry's expiry.
 */
const TIMINGS: InvitationTimings = { expirySeconds: 1_000, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 500 };
const LIMITS: TimerRunLimits = { pageSize: 250, concurrency: 32, worstCaseMs: 1_000 };
const OLD_TIMER_SHARDS = 16;

let nextOrgId = 1;

/**
 * `count` invitations of a new organization, created `ageSeconds` ago with TIMINGS' lifetime:
 * 550 s ago, the reminder is due (expiry 450 s ahead); 1,100 s ago, the expiry is (100 s ago).
 * `shard` (optional) rewrites an entry's partition the way an older shard count wrote it.
 */
async function seed(count: number, ageSeconds: number, shard?: (id: string) => number): Promise<Invitation[]> {
  const org = { id: 900_000 + nextOrgId++, name: `timers-${nextOrgId}` };
  const invitations = Array.from({ length: count }, () => {
    const address = `${crypto.randomUUID()}@example.com`;
    return newInvitation(
      {
        id: crypto.randomUUID(),
        org,
        email: { address, normalized: address },
        inviter: { userId: 'admin', email: 'admin@example.com', emailVerified: true, username: 'admin', isRealmAdmin: false },
      },
      Date.now() - ageSeconds * 1000,
      TIMINGS,
      { associationType: 'MEMBER', expiresInSeconds: TIMINGS.expirySeconds, sendEmail: true },
    );
  });
  const items: Item[] = invitations.map((invitation) => {
    const item = toInvitationItem(invitation, TIMINGS);
    return shard ? { ...item, GSI4PK: keys.timerPartition(shard(invitation.id)) } : item;
  });
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    let unprocessed: Record<string, any> | undefined = { [stack.tableName]: batch };
    while (unprocessed && Object.keys(unprocessed).length > 0) {
      ({ UnprocessedItems: unprocessed } = await stack.db.send(new BatchWriteCommand({ RequestItems: unprocessed })));
    }
  }
  return invitations;
}

const due = {
  reminder: (count: number, shard?: (id: string) => number) => seed(count, 550, shard),
  expiry: (count: number, shard?: (id: string) => number) => seed(count, 1_100, shard),
};

async function eventTypes(invitation: Invitation): Promise<string[]> {
  const { Items } = await stack.db.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.invitationEvents(invitation.orgId, invitation.id) },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((event) => event.eventType as string).sort();
}

function timerDeps(overrides: Partial<TimerDeps> = {}): TimerDeps {
  return { ...createTimerDependencies(process.env), ...overrides };
}

/** Checks each invitation was reminded exactly once through the outbox, and now waits for its expiry. */
async function expectRemindedOnce(invitations: Invitation[]) {
  for (const invitation of invitations) {
    expect(await eventTypes(invitation), invitation.id).toEqual(['invitation.reminded']);
    const item = await storedInvitation(stack, invitation.orgId, invitation.id);
    // One new email request: deliverySeq 1 → 2, back in the pending-email index, as a reminder.
    expect(item).toMatchObject({ deliverySeq: 2, emailKind: 'REMINDER', emailStatus: 'PENDING', remindedFor: invitation.expiresAt });
    expect(item!.GSI2PK).toBeDefined();
    expect(item!.GSI4SK).toBe(keys.timer(0, invitation.expiresAt, invitation.id).GSI4SK);
  }
}

async function expectExpiredOnce(invitations: Invitation[]) {
  for (const invitation of invitations) {
    expect(await eventTypes(invitation), invitation.id).toEqual(['invitation.expired']);
    const item = await storedInvitation(stack, invitation.orgId, invitation.id);
    expect(item!.GSI4PK, 'out of the timer index').toBeUndefined();
    expect(item).toMatchObject({ deliverySeq: 1, status: 'PENDING' });
  }
}

describe('one timer run', () => {
  it('fires every due entry of every shard exactly once: 300 reminders and 300 expiries in one run', async () => {
    const [toRemind, toExpire] = [await due.reminder(300), await due.expiry(300)];
    const shards = new Set([...toRemind, ...toExpire].map((invitation) => shardOf(invitation.id, TIMER_SHARDS)));
    expect(shards.size, '600 random ids over 64 shards: all of them, nearly surely').toBeGreaterThan(60);

    const started = Date.now();
    const result = await fireDueTimers(timerDeps(), LIMITS);
    const elapsedMs = Date.now() - started;
    expect(result).toMatchObject({ found: 600, reminded: 300, expired: 300, rescheduled: 0, skipped: 0, deferred: 0, outOfTime: false });
    console.log(`timer run: 600 firings in ${elapsedMs} ms (${Math.round((600 * 1000) / elapsedMs)}/s, ${LIMITS.concurrency} in flight)`);

    await expectRemindedOnce(toRemind);
    await expectExpiredOnce(toExpire);
    // Nothing is due any more (the reminded wait for their expiry 450 s ahead): a second run fires nothing.
    expect(await fireDueTimers(timerDeps(), LIMITS)).toMatchObject({ found: 0, reminded: 0, expired: 0 });
    await expectRemindedOnce(toRemind);
    await expectExpiredOnce(toExpire);
  }, 120_000);

  it('stops at its time budget and leaves the rest to the next run: nothing lost, nothing fired twice', async () => {
    const toExpire = await due.expiry(400);
    // The deadline arrives once 100 firings were made: from then on less than the worst case is left.
    let fired = 0;
    const store = timerDeps().timers;
    const counting: TimerStore = {
      dueTimers: (...args) => store.dueTimers(...args),
      fire: async (...args) => {
        const outcome = await store.fire(...args);
        fired++;
        return outcome;
      },
    };
    const deadline = { get at() { return fired >= 100 ? Date.now() + LIMITS.worstCaseMs - 1 : Date.now() + 60_000; } };
    const first = await runWithDeadline(deadline, () => fireDueTimers(timerDeps({ timers: counting }), LIMITS));
    expect(first.outOfTime).toBe(true);
    // Those already started when the budget ran out finish (fewer than `concurrency` of them).
    expect(first.expired).toBeGreaterThanOrEqual(100);
    expect(first.expired).toBeLessThan(100 + LIMITS.concurrency);
    expect(first.expired + first.deferred).toBeLessThanOrEqual(first.found);

    const expiredFirst = [];
    for (const invitation of toExpire) {
      const types = await eventTypes(invitation);
      expect(types.length, 'one event at most').toBeLessThanOrEqual(1);
      if (types.length) expiredFirst.push(invitation);
      else expect((await storedInvitation(stack, invitation.orgId, invitation.id))!.GSI4PK, 'still in the timer index').toBeDefined();
    }
    expect(expiredFirst).toHaveLength(first.expired);

    const second = await fireDueTimers(timerDeps(), LIMITS);
    expect(second).toMatchObject({ found: 400 - first.expired, expired: 400 - first.expired, outOfTime: false, deferred: 0 });
    await expectExpiredOnce(toExpire);
  }, 120_000);

  it('still fires entries written under the old shard count (16) after it grew to 64, and they stay in their shard', async () => {
    expect(TIMER_SHARDS).toBeGreaterThan(OLD_TIMER_SHARDS);
    // Ids whose shard differs between 16 and 64 (most do), written where 16 shards put them.
    const oldShard = (id: string) => shardOf(id, OLD_TIMER_SHARDS);
    const toRemind = await due.reminder(20, oldShard);
    const toExpire = await due.expiry(20, oldShard);
    const moved = [...toRemind, ...toExpire].filter((invitation) => oldShard(invitation.id) !== shardOf(invitation.id, TIMER_SHARDS));
    expect(moved.length, "about 30 of 40").toBeGreaterThanOrEqual(10);
    for (const invitation of toRemind) {
      expect((await storedInvitation(stack, invitation.orgId, invitation.id))!.GSI4PK).toBe(`TIMER#${oldShard(invitation.id)}`);
    }

    expect(await fireDueTimers(timerDeps(), LIMITS)).toMatchObject({ found: 40, reminded: 20, expired: 20 });
    await expectRemindedOnce(toRemind);
    await expectExpiredOnce(toExpire);
    // The reminder moved the entry to the expiry within its old partition (only the sort key changes).
    for (const invitation of toRemind) {
      expect((await storedInvitation(stack, invitation.orgId, invitation.id))!.GSI4PK).toBe(`TIMER#${oldShard(invitation.id)}`);
    }

    // 500 s later the reminded ones expire, found in the old shards again (with the first test's reminded ones).
    const later = { nowMs: () => Date.now() + 500_000 };
    const run = await fireDueTimers(timerDeps({ clock: later }), LIMITS);
    expect(run).toMatchObject({ reminded: 0, deferred: 0 });
    expect(run.expired).toBeGreaterThanOrEqual(20);
    for (const invitation of toRemind) {
      expect((await eventTypes(invitation)).sort(), invitation.id).toEqual(['invitation.expired', 'invitation.reminded']);
      expect((await storedInvitation(stack, invitation.orgId, invitation.id))!.GSI4PK).toBeUndefined();
    }
  }, 120_000);
});

/**
 * The timer function as the schedule invokes it: once per worker, `{ "worker": w }`, each firing
 * its own shards only (TIMER_WORKERS, shared/domain/sharding.ts; infra/timers.ts).
 */
describe('timer workers', () => {
  type TimerHandler = (event: unknown, context: unknown) => Promise<TimerRunResult>;
  const fireTimers = async (event: unknown) => {
    const { handler } = (await import('../../functions/fire-invitation-timers.ts')) as unknown as { handler: TimerHandler };
    return handler(event, lambdaContext('fireInvitationTimers'));
  };
  const workerOf = (invitation: Invitation) => shardOf(invitation.id, TIMER_SHARDS) % TIMER_WORKERS;
  /**
   * Every worker, 8 at a time: each owns its shards, so nothing depends on them running at once,
   * and 64 at once overload the DynamoDB Local the whole suite shares (calls time out as busy).
   */
  const runAllWorkers = async () => {
    const runs = [];
    for (let first = 0; first < TIMER_WORKERS; first += 8) {
      runs.push(...(await Promise.all(Array.from({ length: Math.min(8, TIMER_WORKERS - first) }, (_, i) => fireTimers({ worker: first + i })))));
    }
    return runs;
  };

  async function expectUntouched(invitations: Invitation[]) {
    for (const invitation of invitations) {
      expect(await eventTypes(invitation), invitation.id).toEqual([]);
      const item = await storedInvitation(stack, invitation.orgId, invitation.id);
      expect(item!.GSI4SK, 'still due in the timer index').toBe(toInvitationItem(invitation, TIMINGS).GSI4SK);
      expect(item).toMatchObject({ deliverySeq: 1, status: 'PENDING' });
    }
  }

  it('each worker fires exactly the due entries of its own shards; all workers fire every entry once', async () => {
    const [toRemind, toExpire] = [await due.reminder(100), await due.expiry(100)];
    const all = [...toRemind, ...toExpire];
    const worker = workerOf(toExpire[0]!);
    const mine = (invitation: Invitation) => timerShardsOfWorker(worker).includes(shardOf(invitation.id, TIMER_SHARDS));

    const run = await fireTimers({ worker });
    expect(run).toMatchObject({ found: all.filter(mine).length, reminded: toRemind.filter(mine).length, expired: toExpire.filter(mine).length, deferred: 0 });
    await expectRemindedOnce(toRemind.filter(mine));
    await expectExpiredOnce(toExpire.filter(mine));
    const others = all.filter((invitation) => !mine(invitation));
    expect(new Set(others.map(workerOf)).size, '199 random ids: most other workers own some').toBeGreaterThan(30);
    await expectUntouched(others);

    // Every worker (the schedule invokes them at once): the rest fire, nothing fires twice.
    const runs = await runAllWorkers();
    expect(runs.reduce((sum, r) => sum + r.reminded, 0)).toBe(toRemind.filter((i) => !mine(i)).length);
    expect(runs.reduce((sum, r) => sum + r.expired, 0)).toBe(toExpire.filter((i) => !mine(i)).length);
    expect(runs[worker]).toMatchObject({ found: 0 });
    await expectRemindedOnce(toRemind);
    await expectExpiredOnce(toExpire);
  }, 120_000);

  it('refuses an event without a valid worker before firing anything', async () => {
    const toExpire = await due.expiry(20);
    const scheduledEventWithoutInput = { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
    for (const bad of [{}, undefined, null, scheduledEventWithoutInput, { worker: -1 }, { worker: TIMER_WORKERS }, { worker: 1.5 }, { worker: '3' }]) {
      await expect(fireTimers(bad), JSON.stringify(bad)).rejects.toThrow(RangeError);
    }
    await expectUntouched(toExpire);
    // The entries were left as they were: the workers fire them on their next run.
    await runAllWorkers();
    await expectExpiredOnce(toExpire);
  }, 120_000);
});
