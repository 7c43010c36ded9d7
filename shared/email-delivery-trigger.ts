/**
 * Which table stream records start an email delivery, as a Lambda event filter (the CDK stack
 * puts it on the event source mapping) and as a matcher the local stream poller applies the
 * same way. New invitations and resends both leave the item with emailStatus PENDING; the
 * function's own SENT/FAILED writes do not match, so it never triggers itself.
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

/** The subset of Lambda's filter-pattern syntax used above: nested objects, arrays of allowed values. */
export function matchesFilterPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((allowed) => allowed === value);
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null) return false;
    return Object.entries(pattern).every(([key, sub]) => matchesFilterPattern(sub, (value as Record<string, unknown>)[key]));
  }
  return pattern === value;
}
