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
import { deadlineFor, msLeft, runWithDeadline } from '../shared/deadline.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { deliverInvitationEmail, type DeliveryRequest } from '../shared/services/email-delivery.ts';
import { MailerError } from '../shared/ports.ts';
import { createDeliveryDependencies, deliveryWorstCases } from '../shared/wiring.ts';

const deps = createDeliveryDependencies();

/**
 * The longest one record can take when DynamoDB and SES are degraded but within their limits:
 * BatchGetItem, the send claim's UpdateItem, SES (every attempt at its timeout, the largest
 * backoffs between), then the outcome's write. A record is only started with this much time
 * left before the deadline, so a slow batch ends with its remaining records reported as failures
 * (retried from there) instead of a timeout, and no email is cut off mid-send.
 */
export const RECORD_WORST_CASE_MS = (() => {
  const { dynamodbCallMs, sendMs } = deliveryWorstCases(deps.retry);
  return 3 * dynamodbCallMs + sendMs;
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
  // A send claim on the current request: this record is the claim's own write, its release, or
  // another write made after the request was claimed. The claimer, the stream's retry of the
  // request's own record, or the sweep delivers it; taking these records as new requests would
  // start another delivery on every claim and release (a loop while SES is down).
  if (item.sendClaimSeq !== undefined && item.sendClaimSeq === item.deliverySeq) return undefined;
  return { orgId: Number(item.orgId), invitationId: String(item.id), seq: Number(item.deliverySeq) };
}
