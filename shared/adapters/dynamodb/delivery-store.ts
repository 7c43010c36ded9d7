import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import type { EmailStatus, Invitation } from '../../domain/invitation.ts';
import type { DeliveryOutcome, EmailDeliveryStore, PendingEmail } from '../../ports.ts';
import { findItem, fromInvitationItem, fromPendingEmailItem } from './items.ts';
import { keys } from './keys.ts';
import { batchGet, call, updateIfCondition } from './operations.ts';

/** The delivery function's view of invitations: read one, record outcomes, find stragglers. */
export class DynamoEmailDeliveryStore implements EmailDeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
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
   * Keyed by the sequence number: only if `seq` is still the latest request and no outcome for
   * it is recorded. So a replayed stream record, or the sweep racing the stream, records once;
   * and a late outcome never overwrites the state of a newer resend.
   */
  async recordOutcome(orgId: number, invitationId: string, seq: number, outcome: DeliveryOutcome): Promise<boolean> {
    const update = outcomeUpdate(outcome);
    return updateIfCondition(this.client, {
      TableName: this.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: update.UpdateExpression,
      ConditionExpression: 'deliverySeq = :seq AND deliveredSeq < :seq',
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':seq': seq },
    });
  }

  recordFeedback(
    orgId: number,
    invitationId: string,
    messageId: string,
    status: Extract<EmailStatus, 'BOUNCED' | 'COMPLAINED'>,
    reason: string,
  ): Promise<boolean> {
    return updateIfCondition(this.client, {
      TableName: this.tableName,
      Key: keys.invitation(orgId, invitationId),
      UpdateExpression: 'SET emailStatus = :status, lastError = :reason',
      // Only for the latest message sent, never while a newer request is pending, and not once
      // revoked (gone: nobody reads its delivery state any more).
      ConditionExpression: 'messageId = :messageId AND deliveredSeq = deliverySeq AND #status <> :revoked',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': status, ':reason': reason, ':messageId': messageId, ':revoked': 'REVOKED' },
    });
  }

  async listPendingEmails(requestedBefore: string, limit: number): Promise<PendingEmail[]> {
    const index = tableSchema.pendingEmailIndex;
    const { Items } = await call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
          ExpressionAttributeValues: { ':pk': keys.pendingEmail('').GSI2PK, ':before': requestedBefore },
          Limit: limit,
        }),
      ),
    );
    return (Items ?? []).map(fromPendingEmailItem);
  }
}

/** The update recording one outcome; `:seq` is added by the caller. */
function outcomeUpdate(outcome: DeliveryOutcome): { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> } {
  switch (outcome.kind) {
    case 'sent':
      return {
        UpdateExpression:
          'SET emailStatus = :status, deliveredSeq = :seq, lastSentAt = :at, messageId = :messageId ADD sendCount :one REMOVE lastError, GSI2PK, GSI2SK',
        ExpressionAttributeValues: { ':status': 'SENT', ':at': outcome.at, ':messageId': outcome.messageId, ':one': 1 },
      };
    case 'failed':
      // No message of this request exists: a late bounce of an older one must not match.
      return {
        UpdateExpression: 'SET emailStatus = :status, deliveredSeq = :seq, lastError = :reason REMOVE messageId, GSI2PK, GSI2SK',
        ExpressionAttributeValues: { ':status': 'FAILED', ':reason': outcome.reason },
      };
    case 'not-needed':
      return {
        UpdateExpression: 'SET emailStatus = :status, deliveredSeq = :seq REMOVE lastError, messageId, GSI2PK, GSI2SK',
        ExpressionAttributeValues: { ':status': 'NOT_NEEDED' },
      };
  }
}
