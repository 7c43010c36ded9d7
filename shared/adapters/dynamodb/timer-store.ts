/**
 * The timer index (GSI4) and the writes that fire its entries. Every write is one transaction,
 * conditional on the invitation still being as the entry said (its current sort key and state),
 * with its event in the same transaction: a run that read a stale entry, a second run racing this
 * one, or a replay changes nothing and records no second event.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import type { ServiceEvent } from '../../domain/events.ts';
import type { EmailStatus } from '../../domain/invitation.ts';
import { timerShard, type TimerAction } from '../../domain/timers.ts';
import type { DueTimer, DueTimerPage, FireOutcome, TimerCursor, TimerStore } from '../../ports.ts';
import { putEvent, type Item } from './items.ts';
import { keys } from './keys.ts';
import { call, transactWrite } from './operations.ts';

type FiringAction = Exclude<TimerAction, { kind: 'none' }>;

export class DynamoTimerStore implements TimerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly eventRetentionSeconds: number,
  ) {}

  async dueTimers(shard: number, nowSeconds: number, limit: number, after?: TimerCursor): Promise<DueTimerPage> {
    const index = tableSchema.timerIndex;
    const { Items, LastEvaluatedKey } = await call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: 'GSI4PK = :pk AND GSI4SK < :bound',
          ExpressionAttributeValues: { ':pk': keys.timerPartition(shard), ':bound': keys.timerSortKeyBound(nowSeconds) },
          Limit: limit,
          ...(after && { ExclusiveStartKey: after as Item }),
        }),
      ),
    );
    return { timers: (Items ?? []).flatMap((item) => dueTimerFrom(item) ?? []), next: LastEvaluatedKey };
  }

  async fire(timer: DueTimer, action: FiringAction, event: ServiceEvent | undefined, nowMs: number): Promise<FireOutcome> {
    const update = { Update: { TableName: this.tableName, Key: keys.invitation(timer.orgId, timer.invitationId), ...this.change(timer, action, nowMs), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } };
    let result = await transactWrite(this.client, event ? [update, putEvent(this.tableName, event, this.eventRetentionSeconds)] : [update]);
    if (!result.ok && event && result.reasons[0]?.Code !== 'ConditionalCheckFailed') {
      // Only the event's own guard failed: it is recorded already, yet the entry was left behind
      // (a restored table, a bug); finish the change without recording it twice.
      result = await transactWrite(this.client, [update]);
    }
    if (result.ok) return { ok: true };
    const current = result.reasons[0]?.Item;
    return { ok: false, current: current ? dueTimerFrom(current) : undefined };
  }

  /** The update of one action, with the condition that the invitation is still as `timer` says. */
  private change(timer: DueTimer, action: FiringAction, nowMs: number) {
    const { state } = timer;
    const names = { '#status': 'status' };
    const sameEntry = 'GSI4SK = :sk';
    const samePending = `${sameEntry} AND #status = :pending AND expiresAt = :expiresAt`;
    const pinned = { ':sk': timer.sortKey, ':pending': 'PENDING', ':expiresAt': state.expiresAt };
    switch (action.kind) {
      case 'expire':
        // The invitation stays PENDING in storage: EXPIRED is computed from expiresAt.
        return {
          UpdateExpression: 'REMOVE GSI4PK, GSI4SK',
          ConditionExpression: `${samePending} AND expiresAt <= :now`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...pinned, ':now': nowMs / 1000 },
        };
      case 'remind': {
        // A new email request through the outbox, as a resend makes one (deliverySeq + 1,
        // emailStatus PENDING, back in the pending-email index): the stream, the sweep, retries
        // and bounce handling all apply. emailKind makes the delivery render the reminder.
        const requestedAt = new Date(nowMs).toISOString();
        const pending = keys.pendingEmail(timer.invitationId, requestedAt);
        const expiry = keys.timer(timerShard(timer.invitationId), state.expiresAt, timer.invitationId);
        const blocked: EmailStatus[] = ['NOT_REQUESTED', 'BOUNCED', 'COMPLAINED'];
        return {
          UpdateExpression:
            'SET remindedFor = :expiresAt, emailKind = :reminder, emailRequestedAt = :requestedAt, emailStatus = :pending, ' +
            'GSI2PK = :gsi2pk, GSI2SK = :gsi2sk, GSI4SK = :expirySk ADD deliverySeq :one REMOVE lastError',
          ConditionExpression:
            `${samePending} AND expiresAt > :now AND NOT emailStatus IN (:b0, :b1, :b2) ` +
            'AND (attribute_not_exists(remindedFor) OR remindedFor <> :expiresAt)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ...pinned,
            ':now': nowMs / 1000,
            ':reminder': 'REMINDER',
            ':requestedAt': requestedAt,
            ':gsi2pk': pending.GSI2PK,
            ':gsi2sk': pending.GSI2SK,
            ':expirySk': expiry.GSI4SK,
            ':one': 1,
            ':b0': blocked[0],
            ':b1': blocked[1],
            ':b2': blocked[2],
          },
        };
      }
      case 'reschedule':
        return {
          UpdateExpression: 'SET GSI4SK = :next',
          ConditionExpression: sameEntry,
          ExpressionAttributeValues: {
            ':sk': timer.sortKey,
            ':next': keys.timer(timerShard(timer.invitationId), action.at, timer.invitationId).GSI4SK,
          },
        };
      case 'drop':
        return {
          UpdateExpression: 'REMOVE GSI4PK, GSI4SK',
          ConditionExpression: `${sameEntry} AND #status <> :pending`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':sk': timer.sortKey, ':pending': 'PENDING' },
        };
    }
  }
}

/** The timer an item (an index entry, or a whole invitation item) holds; none without an entry. */
function dueTimerFrom(item: Item): DueTimer | undefined {
  const sortKey = item.GSI4SK as string | undefined;
  if (sortKey === undefined) return undefined;
  return {
    orgId: item.orgId as number,
    invitationId: item.id as string,
    orgName: item.orgName as string,
    sortKey,
    state: {
      status: item.status as DueTimer['state']['status'],
      expiresAt: item.expiresAt as number,
      emailStatus: item.emailStatus as DueTimer['state']['emailStatus'],
      remindedFor: item.remindedFor as number | undefined,
      timerAt: keys.timerDeadline(sortKey),
    },
  };
}
