/**
 * The single table's physical schema. The CDK stack and the local setup both build the table
 * from this, so they cannot drift apart.
 *
 * Items (PK / SK):
 * - organization      ORG#<id>      / ORG
 * - membership        ORG#<id>      / ORG#MEMBER#<userId>   (GSI1: USER#<userId> / ORG#<id>)
 * - invitation        ORG#<id>      / INV#<uuid>            (LSI1SK: INV#<createdAt>#<uuid>;
 *                                                            GSI2 while its email is pending:
 *                                                            EMAIL#PENDING#<shard> / <requestedAt>;
 *                                                            GSI3: INVITEE#<normalized email> /
 *                                                            <createdAt>#<uuid> while PENDING;
 *                                                            GSI4 while PENDING: TIMER#<shard> / <deadline>#<uuid>;
 *                                                            while an email is being sent, its send claim:
 *                                                            sendClaimSeq, sendClaimId, sendClaimUntil)
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
   * Sparse, sharded global secondary index: invitations whose email is still PENDING
   * (`EMAIL#PENDING#<shard>`, PENDING_EMAIL_SHARDS in shared/domain/sharding.ts), oldest request
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
   * Sparse global secondary index: an address's PENDING invitations across all organizations,
   * newest first ("my invitations"). An invitation has its keys only while PENDING: they are
   * written with it and removed in the same write that answers or revokes it (expired ones stay
   * until TTL deletes the item, so readers check expiry). Partitioned per normalized address:
   * one person's invitations, a handful, so no hot key and no write sharding. Projects ALL: the
   * invitee's view needs most of the attributes anyway, every write the view sees (delivery
   * status, resends) touches projected ones either way, and it keeps one item mapper for the
   * invitation, so a field the view gains cannot be silently missing from this list; the index
   * holds live invitations only, so the extra storage is small.
   */
  inviteeInvitationsIndex: { name: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
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
