/**
 * `npx tsx bench/capacity-model.ts`: the capacity model behind SCALING.md. It prints the tables
 * SCALING.md quotes, computed from
 *   - the stored items themselves (built with the same mappers the adapters write, sized with
 *     DynamoDB's item-size rules), so a field added to an item shows up in the units;
 *   - DynamoDB's documented unit rules: 1 write unit per started KB per item written, 2× for an
 *     item written in a transaction, one more write per index an item enters, changes (a
 *     projected attribute) or leaves, two when an index key changes; 1 read unit per started 4 KB,
 *     strongly consistent;
 *   - the read units and warm latencies BENCHMARKS.md measured (DynamoDB Local's read figures
 *     follow the rules; its transaction write figures do not, so writes are computed here);
 *   - the list prices of bench/cost.ts (PRICES; its formula for Lambda), unchanged;
 *   - the shard counts and function sizes of the code.
 * Assumptions (the traffic mix, durations not measured yet) are named where they are used.
 */
import { toEventItem, toInvitationItem, toMembershipItem, toPendingGuardItem } from '../shared/adapters/dynamodb/items.ts';
import { DELIVERY_STREAM } from '../shared/deployment/email-delivery-trigger.ts';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';
import { emailSent, invitationCreated } from '../shared/domain/invitation-events.ts';
import type { Invitation, InvitationTimings } from '../shared/domain/invitation.ts';
import { PENDING_EMAIL_SHARDS, TIMER_SHARDS, TIMER_WORKERS } from '../shared/domain/sharding.ts';
import { TIMER_RUN_LIMITS } from '../functions/fire-invitation-timers.ts';
import { PRICES } from './cost.ts';

export const SECONDS_PER_MONTH = 30 * 24 * 3600; // 2,592,000
export const LEVELS = [10, 100, 1_000, 10_000];

// ------------------------------------------------------------------ item sizes (DynamoDB's rules)
type Value = unknown;
function valueSize(value: Value): number {
  if (value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  // Numbers: about one byte per two significant digits, plus one.
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace('.', '').replace(/^0+/, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueSize(v), 0);
  return 3 + Object.entries(value as Record<string, Value>).reduce((sum, [k, v]) => (v === undefined ? sum : sum + Buffer.byteLength(k) + 1 + valueSize(v)), 0);
}
export function itemSize(item: Record<string, Value>): number {
  return Object.entries(item).reduce((sum, [name, v]) => (v === undefined ? sum : sum + Buffer.byteLength(name) + valueSize(v)), 0);
}
const writeUnits = (bytes: number) => Math.ceil(bytes / 1024);

// A representative invitation: a long-ish address, a UUID user id (Keycloak `sub`), an inviter name.
const NOW_MS = Date.parse('2026-12-03T10:00:00.000Z');
const timings: InvitationTimings = { expirySeconds: 604_800, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 172_800 };
const invitation: Invitation = {
  id: '6f1c2a9e-4b7d-4e21-9a3f-0c8d5e6b7a10',
  orgId: 123_456,
  orgName: 'acme-research-lab',
  userEmail: 'firstname.lastname@example-university.edu',
  emailNormalized: 'firstname.lastname@example-university.edu',
  status: 'PENDING',
  associationType: 'MEMBER',
  expiresAt: NOW_MS / 1000 + timings.expirySeconds,
  lifetimeSeconds: timings.expirySeconds,
  createdAt: new Date(NOW_MS).toISOString(),
  invitedBy: 'b1e2c3d4-5f60-4a7b-8c9d-0e1f2a3b4c5d',
  inviterName: 'alice.admin',
  deliverySeq: 1,
  deliveredSeq: 0,
  emailRequestedAt: new Date(NOW_MS).toISOString(),
  emailStatus: 'PENDING',
  sendCount: 0,
};
const RETENTION = 31_536_000;
const invitationItem = toInvitationItem(invitation, timings);
// After delivery: SENT with a message id and lastSentAt (SES message ids are ~60 characters).
const sentItem = { ...invitationItem, emailStatus: 'SENT', deliveredSeq: 1, sendCount: 1, lastSentAt: new Date(NOW_MS).toISOString(), messageId: '0100018c3f5e6a7b-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000' };
export const SIZES = {
  invitation: itemSize(sentItem),
  guard: itemSize(toPendingGuardItem(invitation, invitation.expiresAt)),
  createdEvent: itemSize(toEventItem(invitationCreated(invitation, NOW_MS), RETENTION)),
  sentEvent: itemSize(toEventItem(emailSent(invitation, { deliverySeq: 1, messageId: String(sentItem.messageId) }, NOW_MS), RETENTION)),
  membership: itemSize(toMembershipItem({ orgId: invitation.orgId, userId: invitation.invitedBy, username: 'firstname.lastname', email: invitation.userEmail, associationType: 'MEMBER' })),
};
const INV = writeUnits(SIZES.invitation); // per copy of the invitation (table, LSI1 and GSI3 project ALL)
const EVT = writeUnits(Math.max(SIZES.createdEvent, SIZES.sentEvent));
const SMALL = 1; // guard, membership, rate-limit window, GSI2/GSI4 entries (INCLUDE, a few attributes)

/**
 * Write units per operation, split by where they land: `base` (table + LSI1, the table's own
 * partitions), `org` (of which in the organization's partition ORG#<id>), `gsi` (GSI1-4).
 * Index writes are counted once (standard), item writes of a transaction twice.
 */
export const WRITES = {
  /** Per address of a create request: guard, invitation (LSI1, GSI2, GSI3, GSI4 entries) and its event. */
  createPerAddress: { base: 2 * SMALL + 2 * INV + INV + 2 * EVT, org: 2 * SMALL + 2 * INV + INV, gsi: 1 + INV + 1 },
  /** Per create request: the rate-limit window (RATE#create#<user>). */
  createPerRequest: { base: SMALL, org: 0, gsi: 0 },
  /** The send claim (being added): UpdateItem of the invitation, LSI1 and GSI3 copies. */
  sendClaim: { base: INV + INV, org: INV + INV, gsi: INV },
  /** The outcome: invitation (LSI1; GSI2 entry removed; GSI3 copy; GSI4 emailStatus) + invitation.email.sent. */
  deliveryOutcome: { base: 2 * INV + INV + 2 * EVT, org: 2 * INV + INV, gsi: 1 + INV + 1 },
  /** Accept: invitation (LSI1; GSI3 and GSI4 entries removed), guard deleted, membership put (GSI1), 2 events. */
  answer: { base: 2 * INV + INV + 2 * SMALL + 2 * SMALL + 2 * EVT + 2 * EVT, org: 2 * INV + INV + 2 * SMALL + 2 * SMALL, gsi: 1 + 1 + SMALL },
  /** Reminder firing: invitation to PENDING again (LSI1; GSI2 entry; GSI3; GSI4 key moved: 2) + invitation.reminded. */
  reminder: { base: 2 * INV + INV + 2 * EVT, org: 2 * INV + INV, gsi: 1 + INV + 2 },
  /** Expiry firing: GSI4 entry removed (invitation updated, LSI1, GSI3 copy) + invitation.expired. */
  expiry: { base: 2 * INV + INV + 2 * EVT, org: 2 * INV + INV, gsi: INV + 1 },
};

/** Read units per request: measured (`npm run bench -- --deterministic`, DynamoDB Local, 10 samples each). */
export const READS = { createRequest: 1.5, getInvitation: 3.5, answer: 2.5, listInvitations: 6.5, /* BatchGetItem of invitation + organization, consistent */ delivery: 2 };

/**
 * The traffic mix per invitation created (R = invitations created a second): invitations come 10
 * to a create request (the most a request holds); every invitee opens the link once (GET); half
 * accept, half never answer (they get the reminder and expire); the inviting admin lists once per
 * create request. So 1.5 emails per invitation (the invitation and, for half, the reminder).
 */
export const MIX = { createRequests: 0.1, gets: 1, answers: 0.5, lists: 0.1, emails: 1.5, reminders: 0.5, expiries: 0.5 };
export const API_REQUESTS_PER_INVITATION = MIX.createRequests + MIX.gets + MIX.answers + MIX.lists;
/** Events per invitation: created, email.sent ×1.5, and accepted + member.added (½) or reminded + expired (½). */
export const EVENTS_PER_INVITATION = 1 + MIX.emails + MIX.answers * 2 + MIX.reminders + MIX.expiries;

/** Warm latency through the local stack at concurrency 1 (BENCHMARKS.md, "Latest numbers"), ms. */
export const LATENCY = {
  create: { p50: 23.3, p99: 35.6 },
  get: { p50: 5.1, p99: 13.4 },
  answer: { p50: 11.1, p99: 20.0 },
  list: { p50: 11.6, p99: 20.3 },
  /** 0.16 ms measured per verification; Lambda bills at least 1 ms. */
  authorizer: { p50: 1, p99: 1 },
  /** Per email, assumed by bench/cost.ts (GetItem + SendEmail + write); not measured on AWS yet. */
  delivery: { p50: 80, p99: 80 },
};

// ------------------------------------------------------------------ per level
const sum = (...parts: Array<{ base: number; org: number; gsi: number }>) => parts.reduce((a, b) => ({ base: a.base + b.base, org: a.org + b.org, gsi: a.gsi + b.gsi }), { base: 0, org: 0, gsi: 0 });
const scale = (w: { base: number; org: number; gsi: number }, k: number) => ({ base: w.base * k, org: w.org * k, gsi: w.gsi * k });

/** Write units per invitation, with the send claim (being added) and without. */
export function writesPerInvitation(withClaim: boolean) {
  return sum(
    WRITES.createPerAddress,
    scale(WRITES.createPerRequest, MIX.createRequests),
    scale(WRITES.deliveryOutcome, MIX.emails),
    scale(WRITES.sendClaim, withClaim ? MIX.emails : 0),
    scale(WRITES.answer, MIX.answers),
    scale(WRITES.reminder, MIX.reminders),
    scale(WRITES.expiry, MIX.expiries),
  );
}
export const READS_PER_INVITATION =
  MIX.createRequests * READS.createRequest + MIX.gets * READS.getInvitation + MIX.answers * READS.answer + MIX.lists * READS.listInvitations + MIX.emails * READS.delivery;

/** GSI2 writes per invitation: each email request enters and leaves the index once. */
export const GSI2_WRITES_PER_INVITATION = MIX.emails * 2;
/** GSI4 writes per invitation: enter; each email outcome changes the projected emailStatus; reminder moves the key (2); leave (answer or expiry). */
export const GSI4_WRITES_PER_INVITATION = 1 + MIX.emails * 1 + MIX.reminders * 2 + 1;

/** The send claim being added is included (the model plans for the code as it is about to be). */
const W = writesPerInvitation(true);
/**
 * One batch delivers its records concurrently (functions/deliver-invitation-emails.ts), so a
 * batch of `batchSize` takes about one email's time; one partition key (an organization's
 * `ORG#<id>`) has one batch in flight at a time, a shard `parallelizationFactor` of them.
 */
export const EMAILS_PER_KEY_SECOND = (DELIVERY_STREAM.batchSize * 1000) / LATENCY.delivery.p50;
export const EMAILS_PER_SHARD_SECOND = DELIVERY_STREAM.parallelizationFactor * EMAILS_PER_KEY_SECOND;
/** Before: records one after another, one batch per shard. */
export const EMAILS_PER_SHARD_SECOND_SEQUENTIAL = 1000 / LATENCY.delivery.p50;
/** A new on-demand table: warm throughput 4,000 write / 12,000 read units a second, so at least 4 partitions of 1,000 WCU. */
const INITIAL_PARTITIONS = 4;
/**
 * The timer function (functions/fire-invitation-timers.ts): every minute each of TIMER_WORKERS
 * invocations (its own shards) keeps TIMER_RUN_LIMITS.concurrency firings in flight until its
 * time budget (the deadline minus one call's worst case) runs out. A firing is one
 * TransactWriteItems, assumed `latencyMs` on AWS (not measured there); `cpuMs` is the Node CPU
 * time per firing bench/timers.ts measured on one core of the 2-core development machine, and a
 * Lambda function gets memory ÷ 1,769 MB of a vCPU. `idleRunMs`: the billed duration of a worker's
 * run with nothing due (one Query, the logs and metrics), assumed (not measured on AWS).
 */
export const TIMER_FIRING = { latencyMs: 15, cpuMs: 3.0, idleRunMs: 50 };
const timerSize = FUNCTION_SIZES.timers;
/** Seconds of each minute a run starts firings in. */
export const TIMER_BUDGET_SECONDS = timerSize.timeoutSeconds - timerSize.deadlineMarginMs / 1000 - TIMER_RUN_LIMITS.worstCaseMs / 1000;
/** While a run fires: bounded by the firings in flight over their latency, and by the function's share of a vCPU. */
export const TIMER_FIRINGS_PER_SECOND_IN_FLIGHT = (TIMER_RUN_LIMITS.concurrency * 1000) / TIMER_FIRING.latencyMs;
export const TIMER_FIRINGS_PER_SECOND_CPU = (Math.min(1, timerSize.memorySize / 1769) * 1000) / TIMER_FIRING.cpuMs;
/** One worker while it runs, and sustained (one invocation a minute). */
export const TIMER_FIRINGS_PER_SECOND_RUNNING = Math.min(TIMER_FIRINGS_PER_SECOND_IN_FLIGHT, TIMER_FIRINGS_PER_SECOND_CPU);
export const TIMER_FIRINGS_PER_SECOND_PER_WORKER = (TIMER_FIRINGS_PER_SECOND_RUNNING * TIMER_BUDGET_SECONDS) / 60;
/** Sustained by all the workers, firing side by side (their shards' due entries spread evenly by the hash). */
export const TIMER_FIRINGS_PER_SECOND = TIMER_FIRINGS_PER_SECOND_PER_WORKER * TIMER_WORKERS;
/** The timers with nothing due: every worker once a minute (invocations and billed duration; the 64 Queries are on top). */
export const TIMER_IDLE_INVOCATIONS_PER_MONTH = TIMER_WORKERS * (SECONDS_PER_MONTH / 60);
export const TIMER_IDLE_LAMBDA_MONTHLY =
  TIMER_IDLE_INVOCATIONS_PER_MONTH *
  ((TIMER_FIRING.idleRunMs / 1000) * (timerSize.memorySize / 1024) * PRICES.lambdaGbSecond + PRICES.lambdaPerMillionRequests / 1_000_000);

export function level(rate: number) {
  const apiRps = rate * API_REQUESTS_PER_INVITATION;
  const writes = scale(W, rate);
  const reads = rate * READS_PER_INVITATION;
  const emails = rate * MIX.emails;
  const timerFirings = rate * (MIX.reminders + MIX.expiries);
  const partitions = Math.max(INITIAL_PARTITIONS, Math.ceil(writes.base / 1000), Math.ceil(reads / 3000));
  const concurrency = {
    create: rate * MIX.createRequests * LATENCY.create.p99 / 1000,
    get: rate * MIX.gets * LATENCY.get.p99 / 1000,
    answer: rate * MIX.answers * LATENCY.answer.p99 / 1000,
    list: rate * MIX.lists * LATENCY.list.p99 / 1000,
    authorizer: apiRps * LATENCY.authorizer.p99 / 1000,
    delivery: emails * LATENCY.delivery.p99 / 1000,
    /** Workers busy on average (a firing takes 1 ÷ a worker's rate while running); up to TIMER_WORKERS in a minute's first ~41 s. */
    timers: Math.min(TIMER_WORKERS, timerFirings / TIMER_FIRINGS_PER_SECOND_RUNNING),
  };
  const totalConcurrency = Object.values(concurrency).reduce((a, b) => a + b, 0);
  const lambdaMonthly = (ms: number, memoryMb: number, perSecond: number) =>
    perSecond * SECONDS_PER_MONTH * ((ms / 1000) * (memoryMb / 1024) * PRICES.lambdaGbSecond + PRICES.lambdaPerMillionRequests / 1_000_000);
  const api = FUNCTION_SIZES.api.memorySize;
  const cost = {
    apiGateway: apiRps * SECONDS_PER_MONTH * PRICES.httpApiPerMillionRequests / 1_000_000,
    lambda:
      lambdaMonthly(LATENCY.create.p50, api, rate * MIX.createRequests) +
      lambdaMonthly(LATENCY.get.p50, api, rate * MIX.gets) +
      lambdaMonthly(LATENCY.answer.p50, api, rate * MIX.answers) +
      lambdaMonthly(LATENCY.list.p50, api, rate * MIX.lists) +
      lambdaMonthly(LATENCY.authorizer.p50, api, apiRps) +
      lambdaMonthly(LATENCY.delivery.p50, FUNCTION_SIZES.delivery.memorySize, emails) +
      // The timer workers: their idle runs, plus the time their firings take (no request charge: they share the runs).
      TIMER_IDLE_LAMBDA_MONTHLY +
      timerFirings * SECONDS_PER_MONTH * (1 / TIMER_FIRINGS_PER_SECOND_RUNNING) * (timerSize.memorySize / 1024) * PRICES.lambdaGbSecond,
    dynamodb: (writes.base + writes.gsi) * SECONDS_PER_MONTH * PRICES.dynamodbPerMillionWriteUnits / 1_000_000 + reads * SECONDS_PER_MONTH * PRICES.dynamodbPerMillionReadUnits / 1_000_000,
    ses: emails * SECONDS_PER_MONTH * PRICES.sesPerThousandEmails / 1000,
  };
  return {
    rate,
    apiRps,
    writeUnits: writes.base + writes.gsi,
    baseWriteUnits: writes.base,
    readUnits: reads,
    gsi2ShardWcu: (rate * GSI2_WRITES_PER_INVITATION) / PENDING_EMAIL_SHARDS,
    gsi4ShardWcu: (rate * GSI4_WRITES_PER_INVITATION) / TIMER_SHARDS,
    emails,
    timerFiringsNeeded: timerFirings,
    streamShards: partitions,
    deliveryCapacity: partitions * EMAILS_PER_SHARD_SECOND,
    deliveryCapacitySequential: partitions * EMAILS_PER_SHARD_SECOND_SEQUENTIAL,
    concurrency,
    totalConcurrency,
    eventsPerSecond: rate * EVENTS_PER_INVITATION,
    cost: { ...cost, total: cost.apiGateway + cost.lambda + cost.dynamodb + cost.ses },
  };
}

// ------------------------------------------------------------------ print
if (import.meta.url === `file://${process.argv[1]}`) {
  const f = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log('Item sizes (bytes):', SIZES, `→ ${INV} WCU per invitation copy, ${EVT} per event`);
  console.log('Write units per operation (base = table + LSI1; org = of which in ORG#<id>; gsi = GSI1-4):', WRITES);
  console.log(`Per invitation: writes ${JSON.stringify(W)} (without the send claim: ${JSON.stringify(writesPerInvitation(false))}), reads ${READS_PER_INVITATION}`);
  console.log(`API requests per invitation ${API_REQUESTS_PER_INVITATION}, events per invitation ${EVENTS_PER_INVITATION}, GSI2 writes ${GSI2_WRITES_PER_INVITATION}, GSI4 writes ${GSI4_WRITES_PER_INVITATION}`);
  console.log(`One organization (its partition ORG#<id>, 1,000 WCU/s): ${f(1000 / W.org, 0)} invitations/s; GSI2 limit ${f((1000 * PENDING_EMAIL_SHARDS) / GSI2_WRITES_PER_INVITATION)} invitations/s; GSI4 limit ${f((1000 * TIMER_SHARDS) / GSI4_WRITES_PER_INVITATION)} invitations/s; timers ${f(TIMER_FIRINGS_PER_SECOND)} firings/s sustained (${TIMER_WORKERS} workers × ${f(TIMER_FIRINGS_PER_SECOND_PER_WORKER, 1)}/s: ${TIMER_RUN_LIMITS.concurrency} in flight ÷ ${TIMER_FIRING.latencyMs} ms = ${f(TIMER_FIRINGS_PER_SECOND_IN_FLIGHT)}/s, CPU ${f(TIMER_FIRINGS_PER_SECOND_CPU)}/s at ${timerSize.memorySize} MB and ${TIMER_FIRING.cpuMs} ms per firing, ${f(TIMER_BUDGET_SECONDS, 1)} s of each minute; idle: ${f(TIMER_IDLE_INVOCATIONS_PER_MONTH)} invocations/month, $${f(TIMER_IDLE_LAMBDA_MONTHLY, 2)} at ${TIMER_FIRING.idleRunMs} ms each); one delivery shard ${f(EMAILS_PER_SHARD_SECOND, 1)} emails/s (PF ${DELIVERY_STREAM.parallelizationFactor}, ${DELIVERY_STREAM.batchSize} records a batch at once; records one after another at PF 1: ${f(EMAILS_PER_SHARD_SECOND_SEQUENTIAL, 1)}); one organization's emails ${f(EMAILS_PER_KEY_SECOND, 1)}/s = ${f(EMAILS_PER_KEY_SECOND / MIX.emails, 0)} invitations/s`);
  console.log('\n| invitations/s | API req/s | WRU/s (base+LSI / total) | RRU/s | GSI2 shard WCU | GSI4 shard WCU | emails/s | timer firings/s | stream shards (assumed) | delivery capacity (before: sequential, PF 1) | Lambda concurrency | events/s | $/month (API GW + Lambda + DynamoDB + SES) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const rate of LEVELS) {
    const l = level(rate);
    console.log(
      `| ${f(rate)} | ${f(l.apiRps)} | ${f(l.baseWriteUnits)} / ${f(l.writeUnits)} | ${f(l.readUnits)} | ${f(l.gsi2ShardWcu)} | ${f(l.gsi4ShardWcu)} | ${f(l.emails)} | ${f(l.timerFiringsNeeded)} | ${f(l.streamShards)} | ${f(l.deliveryCapacity)} (${f(l.deliveryCapacitySequential)}) | ${f(l.totalConcurrency)} (${Object.entries(l.concurrency).map(([k, v]) => `${k} ${f(v, 1)}`).join(', ')}) | ${f(l.eventsPerSecond)} | ${f(l.cost.total)} (${f(l.cost.apiGateway)} + ${f(l.cost.lambda)} + ${f(l.cost.dynamodb)} + ${f(l.cost.ses)}) |`,
    );
  }
}
