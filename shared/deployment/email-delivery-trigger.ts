/**
 * Which table stream records start an email delivery, as a Lambda event filter: the CDK stack
 * puts it on the event source mapping and the local stream poller (local/stream-poller.ts)
 * applies it the same way. New invitations and resends both leave the item with emailStatus
 * PENDING; the function's own SENT/FAILED writes do not match, so it never triggers itself.
 */
export const deliveryStreamFilterPattern = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: {
    NewImage: {
      type: { S: ['Invitation'] },
      emailStatus: { S: ['PENDING'] },
    },
  },
} as const;

/**
 * The delivery event source mapping's settings (see the README's "Email delivery"); the CDK
 * mapping (infra/email.ts) and the local stream poller (local/event-sources.ts) both read them.
 */
export const DELIVERY_STREAM = {
  batchSize: 10,
  /**
   * Batches of one shard delivered at once (10, the most Lambda allows). Lambda keeps the records
   * of one partition key in order at any factor, and every invitation of an organization shares
   * `ORG#<id>`, so one organization's emails still go out one batch at a time: the function
   * delivers a batch's records concurrently for that.
   */
  parallelizationFactor: 10,
  /** Lambda's own retries of a failing batch, each with 3 in-function SES attempts behind it. */
  retryAttempts: 5,
  /** Records older than this go to the dead-letter queue; the sweep re-drives them anyway. */
  maxRecordAgeSeconds: 60 * 60,
} as const;
