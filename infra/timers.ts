/**
 * The invitation timers: every minute (EventBridge's shortest rate) the timer function is invoked
 * once per timer worker, with `{ "worker": w }`, and each invocation fires the due reminders and
 * expiry events of its own shards of the sharded timer index (GSI4; TIMER_WORKERS in
 * shared/domain/sharding.ts). Its errors and throttles alarm like every function's (alarms.ts).
 *
 * Scheduled rules with up to 5 targets each (EventBridge's most per rule): 13 rules for 64
 * workers, free, within the 300 rules a bus allows, no role to create (each rule adds one
 * statement to the function's resource policy: 13, far from its 20 KB; one rule per worker would
 * add 64). EventBridge Scheduler would need an execution role and 64 schedules for the same.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { TIMER_WORKERS } from '../shared/domain/sharding.ts';
import { eventFunctions } from '../shared/deployment/routes.ts';
import type { FunctionEnvironments, NewFunction } from './functions.ts';
import { grantTable } from './table.ts';

/** How often the timers fire: the bound on how late a reminder or an expiry event is (plus one run). */
export const TIMER_SCHEDULE_MINUTES = 1;

/** EventBridge's quota of targets per rule. */
export const TARGETS_PER_RULE = 5;

export function createTimerFunction(
  scope: Construct,
  props: { table: dynamodb.TableV2; environments: FunctionEnvironments; newFunction: NewFunction },
): void {
  const spec = eventFunctions.fireInvitationTimers;
  const fn = props.newFunction('fireInvitationTimers', spec.entry, 'timers', props.environments.timers, 'Fires invitation reminders and expiry events');
  grantTable(props.table, fn, spec.dynamodb);
  // A failed run is not retried by Lambda either: the next run, a minute later, picks up what it
  // left, and a retry would only overlap it.
  fn.function.configureAsyncInvoke({ retryAttempts: 0 });
  for (let first = 0; first < TIMER_WORKERS; first += TARGETS_PER_RULE) {
    const workers = Array.from({ length: Math.min(TARGETS_PER_RULE, TIMER_WORKERS - first) }, (_, i) => first + i);
    new events.Rule(scope, `TimerSchedule${first / TARGETS_PER_RULE}`, {
      description: `Fires due invitation reminders and expiry events: timer workers ${workers[0]}-${workers.at(-1)}`,
      schedule: events.Schedule.rate(Duration.minutes(TIMER_SCHEDULE_MINUTES)),
      // The next run a minute later picks up whatever this one left; no retries piling up behind it.
      targets: workers.map((worker) => new targets.LambdaFunction(fn.function, { event: events.RuleTargetInput.fromObject({ worker }), retryAttempts: 0 })),
    });
  }
}
