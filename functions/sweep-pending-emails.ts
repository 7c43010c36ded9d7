/**
 * Scheduled sweep: re-drives invitation emails still PENDING after EMAIL_SWEEP_AGE_SECONDS.
 * Stream records live 24 hours and exhausted retries end in the dead-letter queue; this makes
 * sure an invitation is never silently left without its email once SES is reachable again.
 */
import middy from '@middy/core';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { sweepPendingEmails } from '../shared/services/email-delivery.ts';
import { createDeliveryDependencies } from '../shared/wiring.ts';

const deps = createDeliveryDependencies();
const BATCH = 100;

export const handler = middy()
  .use(observability())
  .handler(async () => {
    const result = await sweepPendingEmails(deps, deps.config.sweepAgeSeconds, BATCH);
    if (result.sent) countMetric('EmailsSent', result.sent);
    if (result.failed) countMetric('EmailsFailed', result.failed);
    if (result.notNeeded) countMetric('EmailsNotNeeded', result.notNeeded);
    if (result.stillUnavailable) countMetric('EmailDeliveriesDeferred', result.stillUnavailable);
    logger.info('sweep done', { ...result });
    return result;
  });
