/**
 * DynamoDB stream → invitation emails (the transactional outbox's relay). The event source
 * mapping's filter (shared/deployment/email-delivery-trigger.ts) passes only new invitations and resends.
 * Records are handled in order; the first one SES cannot take yet is reported as a batch item
 * failure, so Lambda retries from there (bounded, then the dead-letter queue; the sweep also
 * picks it up later) while the records before it stay done.
 */
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DYNAMODB_CALL_LIMITS } from '../shared/adapters/dynamodb/client.ts';
import { SES_CALL_LIMITS } from '../shared/adapters/ses/mailer.ts';
import { deadlineFor, msLeft, runWithDeadline } from '../shared/deadline.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { deliverInvitationEmail, type DeliveryRequest } from '../shared/services/email-delivery.ts';
import { MailerError } from '../shared/ports.ts';
import { createDeliveryDependencies } from '../shared/wiring.ts';

const deps = createDeliveryDependencies();

/**
 * The longest one record can take when DynamoDB and SES are degraded but within their limits:
 * GetItem, then SES (every attempt at its timeout, the largest backoffs between), then UpdateItem.
 * A record is only started with this much time left before the deadline, so a slow batch ends
 * with its remaining records reported as failures (retried from there) instead of a timeout,
 * and no email is cut off mid-send.
 */
export const RECORD_WORST_CASE_MS = (() => {
  const dynamodbCall = DYNAMODB_CALL_LIMITS.maxAttempts * DYNAMODB_CALL_LIMITS.requestTimeoutMs + 150;
  const { attempts, baseDelayMs, maxDelayMs } = deps.retry;
  let sesBackoff = 0;
  for (let attempt = 1; attempt < attempts; attempt++) sesBackoff += Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return 2 * dynamodbCall + attempts * SES_CALL_LIMITS.requestTimeoutMs + sesBackoff;
})();

// The deadline counts from the configured timeout, which a stream invocation starts with; DynamoDB
// calls are aborted at it (shared/deadline.ts).
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(observability())
  .handler((event) => runWithDeadline(deadlineFor(undefined, FUNCTION_SIZES.delivery), () => deliverBatch(event)));

/** Delivers the batch's records in order, within the current deadline. */
export async function deliverBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  for (const record of event.Records) {
    const request = deliveryRequestFrom(record);
    if (!request) continue;
    if (msLeft() < RECORD_WORST_CASE_MS) {
      // Lambda retries from this record; the ones before it are done.
      countMetric('EmailDeliveriesDeferred');
      logger.warn('time budget left is too short for another record; deferring the rest of the batch', { remainingMs: Math.round(msLeft()) });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
    logger.appendKeys({ invitationId: request.invitationId, deliverySeq: request.seq });
    try {
      const result = await deliverInvitationEmail(deps, request);
      if (result.kind === 'sent') countMetric('EmailsSent');
      if (result.kind === 'failed') countMetric('EmailsFailed');
      if (result.kind === 'not-needed') countMetric('EmailsNotNeeded');
      logger.info('delivery handled', { result: result.kind, ...('reason' in result && { reason: result.reason }) });
    } catch (error) {
      countMetric('EmailDeliveriesDeferred');
      if (error instanceof MailerError) logger.warn('SES unavailable; will retry', { reason: error.reason });
      else logger.error('delivery failed unexpectedly; will retry', error as Error);
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    } finally {
      logger.removeKeys(['invitationId', 'deliverySeq']);
    }
  }
  return { batchItemFailures: [] };
}

export function deliveryRequestFrom(record: DynamoDBRecord): DeliveryRequest | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  if (item.type !== 'Invitation' || item.emailStatus !== 'PENDING') return undefined;
  return { orgId: Number(item.orgId), invitationId: String(item.id), seq: Number(item.deliverySeq) };
}
