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
