import { QueryCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import { PENDING_EMAIL_SHARDS } from '../../domain/sharding.ts';
import type { EmailStatus, Invitation } from '../../domain/invitation.ts';
import { randomUUID } from 'node:crypto';
import type { DeliveryOutcome, EmailDeliveryStore, PendingEmail, SendClaim } from '../../ports.ts';
import { emailFailed, emailFeedback, emailSent } from '../../domain/invitation-events.ts';
import type { ServiceEvent } from '../../domain/events.ts';
import { findItem, fromInvitationItem, fromPendingEmailItem, putEvent } from './items.ts';
import { keys } from './keys.ts';
import { batchGet, call, transactWrite, updateIfCondition } from './operations.ts';

type TransactionUpdate = NonNullable<NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update']>;

/** The delivery function's view of invitations: read one, record outcomes, find stragglers. */
export class DynamoEmailDeliveryStore implements EmailDeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** How long the events these outcomes record are kept (EVENT_RETENTION_SECONDS). */
    private readonly eventRetentionSeconds: number,
  ) {}

  /**
   * The invitation with `orgName` set to the organization's current name, read in the same call:
   * an email names the organization (and links to it) as it is called when the email is sent, so
   * a resend after a rename carries the new name.
   */
  async get(orgId: number, invitationId: string): Promise<Invitation | undefined> {
    const invitationKey = keys.invitation(orgId, invitationId);
    const organizationKey = keys.organization(orgId);
    const items = await batchGet(this.client, this.tableName, [invitationKey, organizationKey]);
    const invitationItem = findItem(items, invitationKey);
    if (!invitationItem) return undefined;
    const organizationItem = findItem(items, organizationKey);
    const invitation = fromInvitationItem(invitationItem);
    return organizationItem ? { ...invitation, orgName: organizationItem.name as string } : invitation;
  }

  /**
   * The send claim lives on the invitation item (`sendClaimSeq`, `sendClaimId`, `sendClaimUntil`
   * in epoch ms), so its condition sees the request's state in the same write. It is never read
   * into the domain object (items.ts picks the invitation's fields), so no view or event shows it.
   */
  async claimSend(invitation: Pick<Invitation, 'id' | 'orgId'>, seq: number, nowMs: number, leaseMs: number): Promise<SendClaim | undefined> {
    const claim: SendClaim = { seq, id: randomUUID(), untilMs: nowMs + leaseMs };
    try {
      const claimed = await updateIfCondition(this.client, {
        TableName: this.tableName,
        Key: keys.invitation(invitation.orgId, invitation.id),
        UpdateExpression: 'SET sendClaimSeq = :seq, sendClaimId = :id, sendClaimUntil = :until',
        // Free: no claim, a claim of an older request, or one whose lease ended (or was released).
        // Or already this claim: the SDK's retry of a write that landed but whose answer was lost
        // must not find its own claim taken (nobody would send until the lease ends).
        ConditionExpression:
          'deliverySeq = :seq AND deliveredSeq < :seq AND (attribute_not_exists(sendClaimSeq) OR sendClaimSeq <> :seq OR sendClaimUntil <= :now OR sendClaimId = :id)',
        ExpressionAttributeValues: { ':seq': seq, ':id': claim.id, ':until': claim.untilMs, ':now': nowMs },
      });
      return claimed ? claim : undefined;
    } catch (error) {
      // The claim may have landed all the same (a timed-out attempt): end it now, so the retry
      // of this request claims at once rather than after the lease. If this fails too, the lease ends.
      await this.releaseSend(invitation, claim).catch(() => false);
      throw error;
    }
  }

  /**
   * Ends the lease now rather than deleting the claim: `sendClaimSeq` stays, so this write's
   * stream record is not taken for a new email request (functions/deliver-invitation-emails.ts).
   */
  async releaseSend(invitation: Pick<Invitation, 'id' | 'orgId'>, claim: SendClaim): Promise<boolean> {
    return updateIfCondition(this.client, {
      TableName: this.tableName,
      Key: keys.invitation(invitation.orgId, invitation.id),
      UpdateExpression: 'SET sendClaimUntil = :released',
      ConditionExpression: 'sendClaimId = :id',
      ExpressionAttributeValues: { ':released': 0, ':id': claim.id },
    });
  }

  /**
   * Keyed by the sequence number: only if `seq` is still the latest request and no outcome for
   * it is recorded. So a replayed stream record, or the sweep racing the stream, records once;
   * and a late outcome never overwrites the state of a newer resend. Sent and failed are a
   * transaction of the update and its event (so the event exists exactly when the outcome was
   * recorded: a replay fails the condition and adds none); not-needed records no event (the
   * answer or revocation that made the email unneeded is the event), so it stays one UpdateItem.
   * Not conditioned on the send claim: whoever sent, the first outcome counts; it removes the claim.
   */
  async recordOutcome(invitation: Pick<Invitation, 'id' | 'orgId' | 'orgName'>, seq: number, outcome: DeliveryOutcome, nowMs: number): Promise<boolean> {
    const update = outcomeUpdate(outcome);
    const input: TransactionUpdate = {
      TableName: this.tableName,
      Key: keys.invitation(invitation.orgId, invitation.id),
      UpdateExpression: update.UpdateExpression,
      ConditionExpression: 'deliverySeq = :seq AND deliveredSeq < :seq',
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':seq': seq },
    };
    const event =
      outcome.kind === 'sent'
        ? emailSent(invitation, { deliverySeq: seq, messageId: outcome.messageId }, nowMs)
        : outcome.kind === 'failed'
          ? emailFailed(invitation, { deliverySeq: seq, reason: outcome.reason }, nowMs)
          : undefined;
    if (!event) return updateIfCondition(this.client, input);
    return this.updateWithEvent(input, event);
  }

  /** The update and its event in one transaction: false when the update's condition fails (nothing written). */
  private async updateWithEvent(update: TransactionUpdate, event: ServiceEvent) {
    const result = await transactWrite(this.client, [{ Update: update }, putEvent(this.tableName, event, this.eventRetentionSeconds)]);
    return result.ok;
  }

  /**
   * Reads the invitation with its organization's current name first (one BatchGetItem: the
   * event carries the name), then one transaction of the update and its event, conditioned as before.
   */
  async recordFeedback(
    orgId: number,
    invitationId: string,
    messageId: string,
    status: Extract<EmailStatus, 'BOUNCED' | 'COMPLAINED'>,
    reason: string,
    nowMs: number,
  ): Promise<boolean> {
    const invitation = await this.get(orgId, invitationId);
    if (!invitation) return false;
    return this.updateWithEvent({
      TableName: this.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: 'SET emailStatus = :status, lastError = :reason',
      // Only for the latest message sent, never while a newer request is pending, and not once
      // revoked (gone: nobody reads its delivery state any more). Not again either: SNS may deliver
      // a notification twice, and the second must not record a second event.
      ConditionExpression: 'messageId = :messageId AND deliveredSeq = deliverySeq AND #status <> :revoked AND emailStatus <> :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': status, ':reason': reason, ':messageId': messageId, ':revoked': 'REVOKED' },
    }, emailFeedback(invitation, { status, messageId, reason }, nowMs));
  }

  /**
   * The oldest pending email requests made before `requestedBefore`, at most `limit`: every shard
   * of the pending-email index queried in parallel (PENDING_EMAIL_SHARDS Queries, whatever the
   * number pending, plus the partition entries written before the index was sharded still sit
   * in), each for its oldest `limit`, merged oldest first.
   */
  async listPendingEmails(requestedBefore: string, limit: number): Promise<PendingEmail[]> {
    const index = tableSchema.pendingEmailIndex;
    const partitions = [
      ...Array.from({ length: PENDING_EMAIL_SHARDS }, (_, shard) => keys.pendingEmailPartition(shard)),
      keys.legacyPendingEmailPartition,
    ];
    const pages = await Promise.all(
      partitions.map((partition) =>
        call(() =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index.name,
              KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
              ExpressionAttributeValues: { ':pk': partition, ':before': requestedBefore },
              Limit: limit,
            }),
          ),
        ),
      ),
    );
    return pages
      .flatMap((page) => page.Items ?? [])
      .sort((a, b) => String(a[index.sortKey]).localeCompare(String(b[index.sortKey])))
      .slice(0, limit)
      .map(fromPendingEmailItem);
  }
}

/** The send claim's attributes, removed with the outcome. */
const SEND_CLAIM = 'sendClaimSeq, sendClaimId, sendClaimUntil';

/** The update recording one outcome; `:seq` is added by the caller. */
function outcomeUpdate(outcome: DeliveryOutcome): { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> } {
  switch (outcome.kind) {
    case 'sent':
      return {
        UpdateExpression:
          `SET emailStatus = :status, deliveredSeq = :seq, lastSentAt = :at, messageId = :messageId ADD sendCount :one REMOVE lastError, GSI2PK, GSI2SK, ${SEND_CLAIM}`,
        ExpressionAttributeValues: { ':status': 'SENT', ':at': outcome.at, ':messageId': outcome.messageId, ':one': 1 },
      };
    case 'failed':
      // No message of this request exists: a late bounce of an older one must not match.
      return {
        UpdateExpression: `SET emailStatus = :status, deliveredSeq = :seq, lastError = :reason REMOVE messageId, GSI2PK, GSI2SK, ${SEND_CLAIM}`,
        ExpressionAttributeValues: { ':status': 'FAILED', ':reason': outcome.reason },
      };
    case 'not-needed':
      return {
        UpdateExpression: `SET emailStatus = :status, deliveredSeq = :seq REMOVE lastError, messageId, GSI2PK, GSI2SK, ${SEND_CLAIM}`,
        ExpressionAttributeValues: { ':status': 'NOT_NEEDED' },
      };
  }
}
