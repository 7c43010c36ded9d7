/**
 * DynamoDB stream → invitation emails (the transactional outbox's relay). The event source
 * mapping's filter (shared/email-delivery-trigger.ts) passes only new invitations and resends.
 * Records are handled in order; the first one SES cannot take yet is reported as a batch item
 * failure, so Lambda retries from there (bounded, then the dead-letter queue; the sweep also
 * picks it up later) while the records before it stay done.
 */
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { deliverInvitationEmail, type DeliveryRequest } from '../shared/services/email-delivery.ts';
import { MailerError } from '../shared/ports.ts';
import { createDeliveryDependencies } from '../shared/wiring.ts';

const deps = createDeliveryDependencies();

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(observability())
  .handler(async (event) => {
    for (const record of event.Records) {
      const request = deliveryRequestFrom(record);
      if (!request) continue;
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
  });

export function deliveryRequestFrom(record: DynamoDBRecord): DeliveryRequest | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  if (item.type !== 'Invitation' || item.emailStatus !== 'PENDING') return undefined;
  return { orgId: Number(item.orgId), invitationId: String(item.id), seq: Number(item.deliverySeq) };
}
