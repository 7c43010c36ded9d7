/**
 * The single table's physical schema. The CDK stack and the local setup both build the table
 * from this, so they cannot drift apart.
 *
 * Items (PK / SK):
 * - organization      ORG#<id>      / ORG
 * - membership        ORG#<id>      / ORG#MEMBER#<userId>   (GSI1: USER#<userId> / ORG#<id>)
 * - invitation        ORG#<id>      / INV#<uuid>            (LSI1SK: INV#<createdAt>#<uuid>;
 *                                                            GSI2 while its email is pending;
 *                                                            GSI4 while PENDING: TIMER#<shard> / <deadline>#<uuid>)
 * - pending guard     ORG#<id>      / GUARD#<normalized email>
 * - name → id         ORGNAME#<name>/ ORGNAME
 * - id counter        COUNTER       / ORGID
 * - rate-limit window RATE#<action>#<userId> / <window index>
 * - idempotency key   IDEMP#<userId>/ <Idempotency-Key>
 * - event             EVENTS#ORG#<id>#INV#<uuid>      / <time>#<event id>   (an invitation's trail)
 *                     EVENTS#ORG#<id>#MEMBER#<userId> / <time>#<event id>   (member events no invitation caused)
 *
 * Organization, members, invitations and guards share a partition so that one Query returns an
 * organization with its members, and invitation lookups are naturally scoped to their org.
 */
export const tableSchema = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Number, epoch seconds. DynamoDB deletes lazily (days), so code never relies on it. */
  ttlAttribute: 'ttl',
  /** Local secondary index: an org's invitations newest first, strongly consistent. */
  invitationsByCreatedIndex: { name: 'LSI1', sortKey: 'LSI1SK' },
  /** Global secondary index: the organizations a user belongs to. */
  userOrganizationsIndex: { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  /**
   * Sparse global secondary index: invitations whose email is still PENDING, oldest request
   * first, for the sweep that re-drives deliveries the stream did not complete. Keys only plus
   * what the sweep needs.
   */
  pendingEmailIndex: {
    name: 'GSI2',
    partitionKey: 'GSI2PK',
    sortKey: 'GSI2SK',
    projectedAttributes: ['orgId', 'id', 'deliverySeq'],
  },
  /**
   * Sparse, sharded global secondary index: each PENDING invitation's next deadline (its
   * reminder, then its expiry; domain/timers.ts), for the timer function. TIMER_SHARDS partition
   * keys, so no hot key; projected: what deciding and firing a timer needs.
   */
  timerIndex: {
    name: 'GSI4',
    partitionKey: 'GSI4PK',
    sortKey: 'GSI4SK',
    projectedAttributes: ['orgId', 'id', 'orgName', 'status', 'expiresAt', 'emailStatus', 'remindedFor'],
  },
} as const;
