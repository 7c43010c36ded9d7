/**
 * The invitation timers: an EventBridge schedule every minute (its shortest rate) → the timer
 * function, which fires due reminders and expiry events from the sharded timer index (GSI4).
 * Its errors and throttles alarm like every function's (alarms.ts).
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { eventFunctions } from '../shared/deployment/routes.ts';
import type { FunctionEnvironments, NewFunction } from './functions.ts';
import { grantTable } from './table.ts';

/** How often the timers fire: the bound on how late a reminder or an expiry event is (plus one run). */
export const TIMER_SCHEDULE_MINUTES = 1;

export function createTimerFunction(
  scope: Construct,
  props: { table: dynamodb.TableV2; environments: FunctionEnvironments; newFunction: NewFunction },
): void {
  const spec = eventFunctions.fireInvitationTimers;
  const fn = props.newFunction('fireInvitationTimers', spec.entry, 'timers', props.environments.timers, 'Fires invitation reminders and expiry events');
  grantTable(props.table, fn, spec.dynamodb);
  new events.Rule(scope, 'TimerSchedule', {
    description: 'Fires due invitation reminders and expiry events',
    schedule: events.Schedule.rate(Duration.minutes(TIMER_SCHEDULE_MINUTES)),
    // The next run a minute later picks up whatever this one left; no retries piling up behind it.
    targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0 })],
  });
}
