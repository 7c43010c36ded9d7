/**
 * DynamoDB stream → invitation emails (the transactional outbox's relay). The event source
 * mapping's filter (shared/deployment/email-delivery-trigger.ts) passes only new invitations and resends.
 * A batch's records are delivered concurrently; the earliest one (in stream order) SES could not
 * take yet is reported as the batch item failure, so Lambda retries from there (bounded, then the
 * dead-letter queue; the sweep also picks it up later) while the records before it stay done.
 */
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { deadlineFor, msLeft, runWithDeadline } from '../shared/deadline.ts';
import { DELIVERY_STREAM } from '../shared/deployment/email-delivery-trigger.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { deliverInvitationEmail, type DeliveryRequest } from '../shared/services/email-delivery.ts';
import { DomainError } from '../shared/domain/errors.ts';
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

/**
 * Records of one batch delivered at once: the whole batch. Records of different invitations are
 * independent; two of the same invitation (a create, then its resend) are safe too: each outcome
 * and the send claim are conditional on the request's `deliverySeq`, so the older request is
 * superseded (skipped) and one email goes out.
 */
export const RECORDS_IN_FLIGHT = DELIVERY_STREAM.batchSize;

/** What became of one record: done (whatever the outcome), failed (retry it) or not started (time). */
type RecordState = 'done' | 'failed' | 'deferred';

/**
 * Delivers the batch's records concurrently (at most RECORDS_IN_FLIGHT at a time), each started
 * only while the worst case still fits before the deadline. The batch item failure is the earliest
 * record, in stream order, that failed or was not started: Lambda retries from it, and the
 * records after it that went out meanwhile are replayed harmlessly (their outcome is recorded, so
 * the replay sends nothing).
 */
export async function deliverBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const records = event.Records;
  const states: RecordState[] = records.map(() => 'deferred');
  let next = 0;
  let stopStarting = false;
  const worker = async () => {
    while (!stopStarting && next < records.length) {
      const index = next++;
      const request = deliveryRequestFrom(records[index]!);
      if (!request) {
        states[index] = 'done';
        continue;
      }
      if (msLeft() < RECORD_WORST_CASE_MS) {
        // This record and the ones after it are not started; Lambda retries from the earliest.
        stopStarting = true;
        logger.warn('time budget left is too short for another record; deferring the rest of the batch', { remainingMs: Math.round(msLeft()) });
        break;
      }
      states[index] = (await deliverRecord(request)) ? 'done' : 'failed';
      // Records after a failure would be retried from it anyway: start no more of them.
      if (states[index] === 'failed') stopStarting = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECORDS_IN_FLIGHT, records.length) }, worker));
  const deferred = states.filter((state) => state === 'deferred').length;
  if (deferred > 0) countMetric('EmailDeliveriesDeferred', deferred);
  const earliest = states.findIndex((state) => state !== 'done');
  if (earliest < 0) return { batchItemFailures: [] };
  return { batchItemFailures: [{ itemIdentifier: records[earliest]!.dynamodb?.SequenceNumber ?? '' }] };
}

/** Delivers one request; false when it must be retried (SES unavailable, an unexpected error). */
async function deliverRecord(request: DeliveryRequest): Promise<boolean> {
  // Per call, not appended to the logger: records of the batch are in flight together.
  const keys = { invitationId: request.invitationId, deliverySeq: request.seq };
  try {
    const result = await deliverInvitationEmail(deps, request);
    if (result.kind === 'sent') countMetric('EmailsSent');
    if (result.kind === 'failed') countMetric('EmailsFailed');
    if (result.kind === 'not-needed') countMetric('EmailsNotNeeded');
    logger.info('delivery handled', { ...keys, result: result.kind, ...('reason' in result && { reason: result.reason }) });
    return true;
  } catch (error) {
    countMetric('EmailDeliveriesDeferred');
    if (error instanceof MailerError) logger.warn('SES unavailable; will retry', { ...keys, reason: error.reason });
    else if (error instanceof DomainError && error.kind === 'UNAVAILABLE') logger.warn('DynamoDB busy or unavailable; will retry', { ...keys });
    else logger.error('delivery failed unexpectedly; will retry', { ...keys, error: error as Error });
    return false;
  }
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
