/**
 * The event-driven half of the service, run locally the way AWS runs it: the table's stream
 * feeds the email delivery function (through the same filter) and, given a bus, the
 * event-publishing pipe (local/event-pipe.ts); timers play the schedules that invoke the sweep
 * and the invitation timers. Same handler modules; no separate local code path.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DELIVERY_STREAM, deliveryStreamFilterPattern } from '../shared/deployment/email-delivery-trigger.ts';
import { eventFunctions } from '../shared/deployment/routes.ts';
import { TIMER_WORKERS } from '../shared/domain/sharding.ts';
import type { LocalEventBus } from './event-bus.ts';
import { startEventPipe } from './event-pipe.ts';
import { inInvocation, lambdaContext } from './lambda-runtime.ts';
import { startStreamPoller, type StreamCheckpoint, type StreamPoller } from './stream-poller.ts';

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..');

export interface EventSourcesOptions {
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  /** How often the sweep runs; 0 disables the timer (tests invoke it themselves). */
  readonly sweepEveryMs?: number;
  /**
   * How often the invitation timers fire, every timer worker at once (on AWS: every minute,
   * EventBridge's shortest rate); 0 or absent: not run. Runs never overlap: the next starts a
   * period after all the workers' runs ended.
   */
  readonly timerPeriodMs?: number;
  readonly retryDelayMs?: number;
  /** Where the event-publishing pipe puts the events; none: events are not published. */
  readonly eventBus?: LocalEventBus;
}

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;

async function loadHandler<E, R>(entry: string): Promise<Handler<E, R>> {
  const module = await import(pathToFileURL(join(repoRoot, entry)).href);
  return module.handler as Handler<E, R>;
}

export async function startEventSources(options: EventSourcesOptions) {
  const deliver = await loadHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>(eventFunctions.deliverInvitationEmails.entry);
  const sweep = await loadHandler<unknown, unknown>(eventFunctions.sweepPendingEmails.entry);
  const fireTimers = await loadHandler<unknown, unknown>(eventFunctions.fireInvitationTimers.entry);
  const startDeliveryPoller = (resumeFrom?: StreamCheckpoint) =>
    startStreamPoller({
      endpoint: options.dynamodbEndpoint,
      tableName: options.tableName,
      filterPattern: deliveryStreamFilterPattern,
      // The mapping's batch size and parallelization factor (infra/email.ts reads the same object).
      batchSize: DELIVERY_STREAM.batchSize,
      parallelizationFactor: DELIVERY_STREAM.parallelizationFactor,
      handler: (event) => inInvocation('deliverInvitationEmails', () => deliver(event, lambdaContext('deliverInvitationEmails'))),
      retryDelayMs: options.retryDelayMs,
      resumeFrom,
      onDeadLetter: (record) =>
        console.error(`email delivery: record ${record.dynamodb?.SequenceNumber} dead-lettered after retries; the sweep will re-drive it`),
    });
  let poller: StreamPoller | undefined = await startDeliveryPoller();
  let deliveryCheckpoint: StreamCheckpoint | undefined;
  const pipe = options.eventBus
    ? await startEventPipe({ dynamodbEndpoint: options.dynamodbEndpoint, tableName: options.tableName, bus: options.eventBus, retryDelayMs: options.retryDelayMs })
    : undefined;
  const runSweep = () => inInvocation('sweepPendingEmails', () => sweep({}, lambdaContext('sweepPendingEmails')));
  const timer = options.sweepEveryMs ? setInterval(() => void runSweep().catch(() => undefined), options.sweepEveryMs) : undefined;
  // One period of the schedule: every timer worker at once, each its own invocation with its own
  // input (infra/timers.ts); done when all are, failed if one failed.
  const runTimerWorker = (worker: number) => inInvocation('fireInvitationTimers', () => fireTimers({ worker }, lambdaContext('fireInvitationTimers')));
  const runTimers = async () => {
    const runs = await Promise.allSettled(Array.from({ length: TIMER_WORKERS }, (_, worker) => runTimerWorker(worker)));
    const failure = runs.find((run): run is PromiseRejectedResult => run.status === 'rejected');
    if (failure) throw failure.reason;
    return runs.map((run) => (run as PromiseFulfilledResult<unknown>).value);
  };
  let stopped = false;
  let timersRun: Promise<unknown> = Promise.resolve();
  let timersTimeout: NodeJS.Timeout | undefined;
  const scheduleTimers = (periodMs: number) => {
    timersTimeout = setTimeout(() => {
      timersRun = runTimers()
        .catch((error) => console.error('invitation timers run failed:', error))
        .finally(() => {
          if (!stopped) scheduleTimers(periodMs);
        });
    }, periodMs);
  };
  if (options.timerPeriodMs) scheduleTimers(options.timerPeriodMs);
  return {
    runSweep,
    runTimers,
    /**
     * Stops the stream → delivery poller after its batch in flight, as disabling the event source
     * mapping would (the load test's fault); `resumeDelivery` goes on from where it stopped.
     */
    async pauseDelivery() {
      const stopping = poller;
      poller = undefined;
      deliveryCheckpoint = await stopping?.stop();
    },
    async resumeDelivery() {
      poller ??= await startDeliveryPoller(deliveryCheckpoint ?? new Map());
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      clearTimeout(timersTimeout);
      await timersRun;
      await poller?.stop();
      await pipe?.stop();
    },
  };
}
