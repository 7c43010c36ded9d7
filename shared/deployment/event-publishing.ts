/**
 * How recorded events leave the table: the stream records that carry a new event item
 * (shared/adapters/dynamodb/items.ts toEventItem) are published to an EventBridge bus. The CDK
 * stack and the local stack (npm start) both read this, so they publish the same events the
 * same way.
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
