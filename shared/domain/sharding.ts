/**
 * Write sharding of the sparse indexes whose entries would otherwise share one partition key
 * (every pending email, every pending timer): an item goes to the shard of its invitation id, and
 * readers query every shard. A GSI partition takes about 1,000 write units a second, and a
 * throttled GSI throttles the table's writes, so one constant key would cap the whole service.
 * Both shard counts live here; SCALING.md shows how they were chosen and at what rate each one
 * runs out (bench/capacity-model.ts computes it). Changing a count changes the shard of new
 * writes only; see each constant for what its readers need then.
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
 * under 1 KB per invitation with the mix of SCALING.md. 64 partitions × ~1,000 write units a
 * second ≈ 14,000 new invitations a second before one of them throttles (10,000/s puts ~700 on
 * each), and throttling a GSI throttles the table's writes. The timer function queries each one
 * per run: 64 Queries a minute.
 *
 * Growing this count needs no migration: the timer workers query shards 0..TIMER_SHARDS-1, a
 * superset of every smaller count's shards, so entries written under the old count (16 until
 * now) are still found where they are. No write addresses an existing entry by a recomputed
 * shard: answer, revoke, expiry and drop REMOVE GSI4PK/GSI4SK, the reminder and a reschedule SET
 * only GSI4SK (the entry stays in its partition), and create/resend SET both keys afresh. So an
 * old entry lives out its lifetime in its old shard, and the next resend moves it to its new one.
 * **Never shrink it**: entries in the shards above a smaller count would never fire again.
 */
export const TIMER_SHARDS = 64;

/**
 * Invocations of the timer function each minute, each firing its own shards (worker w owns the
 * shards s with s % TIMER_WORKERS === w; 64 ÷ 64: one shard each), so that they fire side by
 * side. One invocation cannot keep up: a firing costs ~3 ms of Node CPU (bench/timers.ts), so one
 * vCPU (1,769 MB, FUNCTION_SIZES.timers) fires ~330 a second while it runs, ~227 sustained over
 * each minute (its time budget), and 10,000 invitations a second need up to ~10,000 firings.
 * 64 workers: ~14,500 firings a second sustained (bench/capacity-model.ts; SCALING.md, step 4).
 * Idle, each worker is one invocation a minute doing its shard's one Query: 64 × 43,200 =
 * ~2.8 million invocations a month, ~$3.7 at 1,769 MB (same 64 Queries a minute as one worker).
 *
 * Changing it is safe at any time: every shard has exactly one owner under any count ≤
 * TIMER_SHARDS (keep it a divisor, so that the workers' shares are even), and a firing is
 * conditional, so a shard fired twice in one minute by an old and a new assignment during a
 * deployment fires nothing twice.
 */
export const TIMER_WORKERS = 64;

/**
 * The shards timer worker `worker` fires. Anything but an integer in 0..TIMER_WORKERS−1 is
 * refused (the schedule's input is wrong): never a silent run of every shard, or of none.
 */
export function timerShardsOfWorker(worker: unknown): number[] {
  if (typeof worker !== 'number' || !Number.isInteger(worker) || worker < 0 || worker >= TIMER_WORKERS) {
    throw new RangeError(`a timer worker is an integer from 0 to ${TIMER_WORKERS - 1}, not ${JSON.stringify(worker) ?? String(worker)}`);
  }
  return Array.from({ length: TIMER_SHARDS }, (_, shard) => shard).filter((shard) => shard % TIMER_WORKERS === worker);
}
