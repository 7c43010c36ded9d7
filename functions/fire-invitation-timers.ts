/**
 * Scheduled every minute: fires the invitations' due timers (shared/services/timers.ts), i.e.
 * requests the reminder email before an invitation expires and records `invitation.expired`
 * when it does. TTL deletion is never the trigger: it comes days late.
 */
import middy from '@middy/core';
import { countMetric, logger, observability } from '../shared/observability.ts';
import { fireDueTimers } from '../shared/services/timers.ts';
import { createTimerDependencies } from '../shared/wiring.ts';

const deps = createTimerDependencies();

/**
 * Due entries each shard's Query returns per run: 16 shards × 250 = 4,000 timers a run at most,
 * fired 16 at a time (one sequence per shard, ~10 ms a transaction: ~3 s). A backlog beyond
 * that drains over the following runs.
 */
export const TIMERS_PER_SHARD_PER_RUN = 250;

export const handler = middy()
  .use(observability())
  .handler(async () => {
    const result = await fireDueTimers(deps, TIMERS_PER_SHARD_PER_RUN);
    if (result.expired) countMetric('InvitationsExpired', result.expired);
    if (result.reminded) countMetric('InvitationRemindersRequested', result.reminded);
    // maxDelaySeconds: how late this run fired its latest deadline (the schedule's period, or a backlog).
    logger.info('timers fired', { ...result });
    return result;
  });
