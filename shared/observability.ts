/**
 * Structured JSON logs (with the API Gateway request id as correlation id) and CloudWatch
 * metrics in Embedded Metric Format, via Powertools. One instance each per container.
 * Locally and in tests, POWERTOOLS_METRICS_DISABLED / POWERTOOLS_LOG_LEVEL keep the noise down.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { SERVICE_NAME } from './service.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'JaqpotInvitations',
});

export type MetricName =
  | 'InvitationsCreated'
  | 'InvitationsAccepted'
  | 'InvitationsRejected'
  | 'InvitationsResent'
  | 'InvitationsRevoked'
  | 'EmailsSent'
  | 'EmailsFailed'
  /** Not sent because the invitation was answered first: expected, never alarmed on. */
  | 'EmailsNotNeeded'
  | 'EmailsBounced'
  | 'EmailsComplained'
  | 'EmailDeliveriesDeferred'
  | 'InvitationsExpired'
  | 'InvitationRemindersRequested'
  /** Timer entries found but left for the next run: the run's time budget ran out (a backlog). */
  | 'InvitationTimersDeferred';

export function countMetric(name: MetricName, value = 1) {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Middy middlewares every function uses: Lambda context and a correlation id on every log line
 * (keys reset per invocation), and this invocation's metrics flushed at the end. Powertools'
 * own logMetrics warns on invocations that record none, which most reads are.
 */
export function observability(): middy.MiddlewareObj[] {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return [
    injectLambdaContext(logger, { resetKeys: true }),
    { after: flush, onError: flush },
  ];
}
