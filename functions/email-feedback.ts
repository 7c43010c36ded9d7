/**
 * SES bounce and complaint notifications (configuration set → SNS → here): marks the
 * invitation BOUNCED or COMPLAINED so admins see which invitations never arrived.
 */
import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { parseSesFeedback } from '../shared/adapters/ses/feedback.ts';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { systemClock } from '../shared/adapters/system.ts';
import { createEmailDeliveryStore } from '../shared/wiring.ts';

const store = createEmailDeliveryStore();

export const handler = middy<SNSEvent>()
  .use(observability())
  .handler(async (event) => {
    for (const record of event.Records) {
      const feedback = parseSesFeedback(record.Sns.Message);
      if (!feedback) continue; // deliveries, transient bounces, other senders' mail
      const recorded = await store.recordFeedback(
        feedback.orgId,
        feedback.invitationId,
        feedback.messageId,
        feedback.status,
        feedback.reason,
        systemClock.nowMs(),
      );
      countMetric(feedback.status === 'BOUNCED' ? 'EmailsBounced' : 'EmailsComplained');
      logger.info('email feedback', { ...feedback, recorded });
    }
  });
