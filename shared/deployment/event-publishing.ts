/**
 * How recorded events leave the table: the stream records that carry a new event item
 * (shared/adapters/dynamodb/items.ts toEventItem) are published to an EventBridge bus by an
 * EventBridge Pipe: table stream → filter → enrichment (functions/render-events.ts: the item as
 * the event model, plain JSON) → event bus. The CDK stack (infra/events.ts) and the local stack
 * (local/event-pipe.ts) both read this, so they publish the same events the same way.
 *
 * Why an enrichment and not only the pipe's input template: a template can only copy DynamoDB
 * JSON values (`{"S": …}`, `{"N": "42"}`, `{"M": {…}}`) into place; it cannot turn the `changes`
 * map (whose fields differ per event type) into plain JSON, nor a number attribute into a number.
 */

/** EventBridge `source` of every event the service publishes. */
export const EVENT_SOURCE = 'jaqpot.invitations';

/**
 * Which stream records are events: inserts of event items. Nothing else (an invitation's own
 * changes, a guard, a rate-limit window) is published; an event item is never modified, and its
 * TTL deletion is not an event.
 */
export const eventStreamFilterPattern = {
  eventName: ['INSERT'],
  dynamodb: {
    NewImage: {
      type: { S: ['Event'] },
    },
  },
} as const;

/** The pipe's settings; the local pipe uses the same numbers. */
export const EVENT_PIPE = {
  /** The enrichment function (same entry locally). */
  enrichmentEntry: 'functions/render-events.ts',
  /** PutEvents takes at most 10 entries: the pipe cannot batch more to an event bus. */
  batchSize: 10,
  /** Retries of a failing batch (bisected) before its records go to the dead-letter queue. */
  retryAttempts: 10,
  /** Records older than this go to the dead-letter queue without further retries. */
  maximumRecordAgeSeconds: 24 * 60 * 60,
  /**
   * The event bus target: a fixed source; the detail-type and time are dynamic paths into the
   * enrichment's output (the event), whose whole object becomes `detail`.
   */
  target: {
    source: EVENT_SOURCE,
    detailType: '$.type',
    time: '$.time',
  },
} as const;

/** A published event as EventBridge (and a consumer's rule or target) sees it. */
export interface PublishedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: Record<string, unknown>;
}

/**
 * The event bus entry the pipe's target parameters make of one enrichment output: the subset of
 * Pipes' dynamic paths the parameters use (`$.a.b`; anything else is taken as a static value).
 */
export function publishedEvent(payload: Record<string, unknown>, target: { source: string; detailType: string; time: string } = EVENT_PIPE.target): PublishedEvent {
  return {
    source: resolveTargetParameter(target.source, payload),
    'detail-type': resolveTargetParameter(target.detailType, payload),
    time: resolveTargetParameter(target.time, payload),
    detail: payload,
  };
}

export function resolveTargetParameter(value: string, payload: unknown): string {
  if (!value.startsWith('$.')) return value;
  let current: unknown = payload;
  for (const key of value.slice(2).split('.')) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  if (typeof current !== 'string') throw new Error(`target parameter ${value} does not resolve to a string`);
  return current;
}
