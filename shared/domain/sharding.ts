/**
 * Write sharding of the sparse indexes whose entries would otherwise share one partition key
 * (every pending email, every pending timer): an item goes to the shard of its invitation id, and
 * readers query every shard. A GSI partition takes about 1,000 write units a second, and a
 * throttled GSI throttles the table's writes, so one constant key would cap the whole service.
 * Both shard counts live here; SCALING.md shows how they were chosen and at what rate each one
 * runs out (bench/capacity-model.ts computes it). Changing a count moves existing entries to
 * other shards: the readers must then also query the old count's shards for as long as entries
 * written under it can live.
 */

/** The shard of an invitation: FNV-1a of its id mod `shards`, stable across runs and releases. */
export function shardOf(invitationId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < invitationId.length; i++) {
    hash ^= invitationId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/**
 * Partitions of the pending-email index (GSI2). Each email request writes its entry once and
 * removes it once when the outcome is recorded: 2 index writes (under 1 KB: 1 write unit each)
 * per email. 32 partitions × ~1,000 write units a second ≈ 16,000 emails a second before one of
 * them throttles, above the 10,000 invitations a second this service is sized for (with the
 * hash spreading evenly). The sweep queries all 32 in parallel, every few minutes.
 */
export const PENDING_EMAIL_SHARDS = 32;

/**
 * Partitions of the timer index (GSI4, shared/domain/timers.ts). Every pending invitation enters
 * it when created or resent, moves once at its reminder (a key change: 2 writes), leaves at expiry
 * or an answer, and each email outcome rewrites its projected emailStatus: ~4.5 index writes of
 * under 1 KB per invitation with the mix of SCALING.md. 16 partitions × ~1,000 write units a
 * second ≈ 3,500 new invitations a second before one of them throttles (and throttling a GSI
 * throttles the table's writes). The timer function queries each one per run: 16 Queries a minute.
 */
export const TIMER_SHARDS = 16;
