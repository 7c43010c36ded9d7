/**
 * Structured JSON logs (with the API Gateway request id as correlation id) and CloudWatch
 * metrics in Embedded Metric Format, via Powertools. One instance each per container.
 * Locally and in tests, POWERTOOLS_METRICS_DISABLED / POWERTOOLS_LOG_LEVEL keep the noise down.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'organization-invitations';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'JaqpotInvitations',
});

export function countMetric(name: 'InvitationsCreated' | 'InvitationsAccepted' | 'InvitationsRejected' | 'InvitationsResent' | 'RateLimited', value = 1) {
  metrics.addMetric(name, MetricUnit.Count, value);
}
