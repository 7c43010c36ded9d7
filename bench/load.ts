/**
 * `npm run bench -- --load`: the load test. Pushes INVITATIONS invitations over ORGS
 * organizations at CONCURRENCY through the local stack (the local API Gateway, the authorizer
 * and the handlers on DynamoDB Local; the table stream → delivery function → SES emulator; the
 * sweep), twice: once clean, once with faults (the stream → delivery poller stopped mid-run and
 * restarted; SES unavailable for a while). Loopback only; bounded in requests and time; it stops
 * by itself and exits 1 when an assertion fails.
 *
 * After each run has drained it asserts that nothing was lost or doubled:
 * - every 201 reported exactly the invitations it was asked for, and the table holds exactly the
 *   reported invitations of each organization, no more, no fewer;
 * - SES accepted exactly one email per invitation (counted where SES answers, and in the
 *   emulator's store), none to any other address;
 * - no email is left pending (the pending-email index is empty, every invitation SENT once);
 * - no 5xx, no unexpected status.
 *
 * Floor (bench/load-floor.ts), measured in the same test: every DynamoDB command the clean run's
 * functions sent is recorded per invocation (local/lambda-runtime.ts `currentInvocation`) and
 * replayed directly with the SDK into an empty table of the same schema: the API invocations at
 * the same concurrency, and beside them the delivery and sweep work per record, as many at once as
 * the delivery runs (parallelization factor × batch size). The floor is what the same DynamoDB
 * work costs without HTTP, the gateway, the authorizer, the handlers and SES. The faults run is compared with the
 * clean run's floor (its own replay would not fit the 10-minute bound).
 */
import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInvitationsClient, type InvitationsClient } from '../client/index.ts';
import { REPO_ROOT } from '../infra/service-function.ts';
import { keys } from '../shared/adapters/dynamodb/keys.ts';
import { PENDING_EMAIL_SHARDS } from '../shared/domain/sharding.ts';
import { tableSchema } from '../shared/deployment/table-schema.ts';
import { startLocalApi } from '../local/api-gateway.ts';
import { createTable } from '../local/create-table.ts';
import { getFreePort, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { localFunctionEnvironment } from '../local/environment.ts';
import { startEventSources } from '../local/event-sources.ts';
import { LocalIssuer } from '../local/issuer.ts';
import { listLocalEmails, startSesLocal } from '../local/ses-local.ts';
import { installDynamoDbMeter } from './dynamodb-meter.ts';
import { commandRecorder, invocationCounts, localDynamoDbClient, pool, replayFloor, type Floor, type Latencies } from './load-floor.ts';
import { startSesFaultProxy, type SesFaultProxy } from './ses-fault-proxy.ts';

export const LOAD = {
  organizations: 200,
  /**
   * Invitations per run by default (the 10,000): both runs and the clean run's floor fit
   * the 10-minute bound on 2 cores (BENCHMARKS.md). `--invitations N` runs another size, with the
   * time limits scaled up for more.
   */
  invitations: 10_000,
  emailsPerRequest: 10,
  concurrency: 32,
  /** One list of an organization's invitations after every this many creates. */
  listEvery: 4,
  /** A run fails when its emails have not all gone out this long after its last create (per default size). */
  drainTimeoutMs: 180_000,
  /** The whole test gives up after this (the bound is 10 minutes; per default size). */
  totalTimeoutMs: 9.5 * 60_000,
  /** The sweep's schedule and age, compressed from AWS's (every 5 minutes, 900 s) to fit a run. */
  sweepEveryMs: 5_000,
  sweepAgeSeconds: 20,
  /** The throughput the service should reach, as a share of the floor's. */
  throughputTarget: 0.7,
} as const;

/** The faults of the second run, started when this share of its creates has answered. */
const FAULTS = {
  pauseDeliveryAt: 0.2,
  pauseDeliveryForMs: 10_000,
  sesDownAt: 0.45,
  sesDownForMs: 15_000,
} as const;

const TABLE = 'load';

type Endpoint = 'createOrganization' | 'createInvitations' | 'listInvitations';


/** This test's size: requests per run, and the time limits scaled to it. */
let size = sizeFor(LOAD.invitations);

function sizeFor(invitations: number) {
  const scale = Math.max(1, invitations / LOAD.invitations);
  return {
    createRequests: Math.ceil(invitations / LOAD.emailsPerRequest),
    drainTimeoutMs: LOAD.drainTimeoutMs * scale,
    totalTimeoutMs: LOAD.totalTimeoutMs * scale,
  };
}

export async function runLoadTest(options: { invitations?: number } = {}): Promise<number> {
  if (options.invitations !== undefined) {
    if (!Number.isInteger(options.invitations) || options.invitations < LOAD.emailsPerRequest) {
      console.error(`--invitations must be a whole number ≥ ${LOAD.emailsPerRequest}`);
      return 2;
    }
    size = sizeFor(options.invitations);
  }
  const started = Date.now();
  const giveUp = setTimeout(() => {
    console.error(`\nLoad test: over ${size.totalTimeoutMs / 60_000} minutes; giving up.`);
    process.exit(1);
  }, size.totalTimeoutMs);
  giveUp.unref();

  // Each run, and the floor, on a fresh DynamoDB Local: its transactions slow down as it holds
  // more (BENCHMARKS.md), so a run must not inherit the one before. The service's instance
  // always listens on the same port, where the handlers' clients (created once) find it.
  const dynamodbPort = await getFreePort();
  const dynamodbEndpoint = `http://127.0.0.1:${dynamodbPort}`;
  const ses = await startSesLocal();
  const sesProxy = await startSesFaultProxy(ses.endpoint);
  const failures: string[] = [];
  const consoleError = console.error;
  try {
    installDynamoDbMeter();
    const recorder = commandRecorder();
    const issuer = LocalIssuer.ephemeral();
    Object.assign(
      process.env,
      localFunctionEnvironment({ tableName: TABLE, dynamodbEndpoint, sesEndpoint: sesProxy.endpoint, issuer }),
      {
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        RATE_LIMIT_CREATE: '1000000000/600',
        RATE_LIMIT_RESEND: '1000000000/600',
        RATE_LIMIT_CREATE_ORGANIZATION: '1000000000/600',
        EMAIL_SWEEP_AGE_SECONDS: String(LOAD.sweepAgeSeconds),
      },
    );
    const deadLetters: string[] = [];
    console.error = (...args: unknown[]) => {
      const line = args.map(String).join(' ');
      if (line.includes('dead-lettered')) deadLetters.push(line);
      else consoleError(...args);
    };
    const api = await startLocalApi({ jwks: issuer.jwks });

    const reports = [];
    let cleanFloor: Floor | undefined;
    for (const name of ['clean', 'faults'] as const) {
      const dynamodb = await startDynamoDbLocal({ inMemory: true, port: dynamodbPort, jvm: 'throughput' });
      const raw = localDynamoDbClient(dynamodb.endpoint);
      const db = DynamoDBDocumentClient.from(raw);
      try {
        await createTable(raw, TABLE);
        const events = await startEventSources({ dynamodbEndpoint, tableName: TABLE, sweepEveryMs: LOAD.sweepEveryMs });
        try {
          const report = await loadRun(name, { api: api.url, db, issuer, ses: ses.endpoint, sesProxy, events, recorder, deadLetters }, cleanFloor);
          cleanFloor ??= report.floor;
          failures.push(...report.failures.map((failure) => `${name}: ${failure}`));
          reports.push(report);
          printReport(report);
        } finally {
          await events.stop();
        }
      } finally {
        raw.destroy();
        await dynamodb.stop();
      }
    }
    mkdirSync(join(REPO_ROOT, '.local', 'bench'), { recursive: true });
    const out = join(REPO_ROOT, '.local', 'bench', 'load.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, load: LOAD, size, faults: FAULTS, reports: reports.map(({ floor: _, ...report }) => report) }, null, 2));
    console.log(`\nResults: ${out}`);
    await api.close();
    console.log(`\nLoad test: ${Math.round((Date.now() - started) / 1000)} s in all.`);
  } finally {
    console.error = consoleError;
    await sesProxy.stop();
    await ses.stop();
  }
  if (failures.length > 0) {
    console.log(`\nLoad test assertions failed:\n- ${failures.join('\n- ')}`);
    return 1;
  }
  console.log('\nLoad test: every assertion holds.');
  return 0;
}

type LoadContext = {
  api: string;
  db: DynamoDBDocumentClient;
  issuer: LocalIssuer;
  ses: string;
  sesProxy: SesFaultProxy;
  events: Awaited<ReturnType<typeof startEventSources>>;
  recorder: ReturnType<typeof commandRecorder>;
  deadLetters: string[];
};

/**
 * One run. Its floor is replayed from its own recorded commands, unless `reference` (the clean
 * run's floor) is given: the faults run does the same DynamoDB work plus the retries its faults
 * cause, and a second replay of 10,000 invitations would not fit the 10-minute bound.
 */
async function loadRun(name: 'clean' | 'faults', ctx: LoadContext, reference?: Floor) {
  const failures: string[] = [];
  const latencies: Latencies = {};
  const statuses = new Map<string, number>();
  const unexpected: string[] = [];
  const clients = new Map<string, InvitationsClient>();
  const client = (token: string) => {
    let api = clients.get(token);
    if (!api) clients.set(token, (api = createInvitationsClient(ctx.api, { token })));
    return api;
  };
  const timed = async <T extends { response: Response; data?: unknown; error?: unknown }>(endpoint: Endpoint, expect: number, call: () => Promise<T>) => {
    const t0 = performance.now();
    const result = await call();
    (latencies[endpoint] ??= []).push(performance.now() - t0);
    const key = `${endpoint} ${result.response.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    if (result.response.status !== expect && unexpected.length < 10) {
      unexpected.push(`${endpoint}: ${result.response.status} ${JSON.stringify(result.error ?? result.data)?.slice(0, 200)}`);
    }
    return result;
  };
  ctx.sesProxy.reset();
  const runStarted = performance.now();
  const progress = (text: string) => console.log(`  [${name} ${((performance.now() - runStarted) / 1000).toFixed(1)} s] ${text}`);
  const deadLettersBefore = ctx.deadLetters.length;
  ctx.recorder.start();

  // Organizations, each with its own admin.
  const orgs = Array.from({ length: LOAD.organizations }, (_, i) => {
    const sub = `load-${name}-admin-${i}`;
    return { name: `load-${name}-${i}`, token: ctx.issuer.token({ sub, email: `${sub}@load.test`, username: sub, expiresIn: 3600 }), id: 0 };
  });
  await pool(orgs, LOAD.concurrency, async (org) => {
    const { data } = await timed('createOrganization', 201, () =>
      client(org.token).POST('/v1/organizations', { body: { name: org.name, contactEmail: 'org@load.test', visibility: 'PRIVATE' } }),
    );
    org.id = data?.id ?? 0;
  });
  if (orgs.some((org) => !org.id)) failures.push('an organization was not created');
  progress(`${orgs.length} organizations created`);

  // Invitations: CREATE_REQUESTS requests of EMAILS_PER_REQUEST new addresses, round robin over
  // the organizations, a list after every LIST_EVERY.
  const requests = Array.from({ length: size.createRequests }, (_, r) => ({
    org: orgs[r % orgs.length]!,
    emails: Array.from({ length: LOAD.emailsPerRequest }, (_, j) => `${name}-${r}-${j}@load.test`),
  }));
  const reported = new Map<number, Map<string, string>>(); // org id → invitation id → address
  let answered = 0;
  const faults = name === 'faults' ? faultSchedule(ctx) : undefined;
  const t0 = performance.now();
  await pool(requests, LOAD.concurrency, async (request, index) => {
    const { data, response } = await timed('createInvitations', 201, () =>
      client(request.org.token).POST('/v1/organizations/{orgName}/invitations', {
        params: { path: { orgName: request.org.name } },
        body: { emails: request.emails },
      }),
    );
    if (response.status === 201) {
      const invitations = data && 'invitations' in data ? data.invitations : [];
      const addresses = invitations.map((invitation) => invitation.userEmail).sort();
      if (JSON.stringify(addresses) !== JSON.stringify([...request.emails].sort())) {
        failures.push(`create ${index} reported ${addresses.length} invitations (${addresses.slice(0, 3).join(', ')}…), asked for ${request.emails.length}`);
      }
      const ofOrg = reported.get(request.org.id) ?? new Map<string, string>();
      for (const invitation of invitations) ofOrg.set(invitation.id!, invitation.userEmail);
      reported.set(request.org.id, ofOrg);
    }
    if (index % LOAD.listEvery === 0) {
      await timed('listInvitations', 200, () =>
        client(request.org.token).GET('/v1/organizations/{orgName}/invitations', { params: { path: { orgName: request.org.name }, query: { limit: 20 } } }),
      );
    }
    answered++;
    await faults?.progress(answered / size.createRequests);
  });
  const createSeconds = (performance.now() - t0) / 1000;
  const createsEnded = performance.now();
  progress(`${size.createRequests} create requests answered in ${createSeconds.toFixed(1)} s; draining the emails`);

  // Drain: until the pending-email index is empty and the faults are over. Counting the index
  // reads every pending entry, so it is asked every 250 ms only once SES has taken an email per
  // invitation, and every 5 s before (to end a run whose emails fail or go elsewhere): counting
  // four times a second through a backlog of thousands took a large share of DynamoDB Local.
  await faults?.finished;
  const invitationsAsked = size.createRequests * LOAD.emailsPerRequest;
  const acceptedSoFar = () => [...ctx.sesProxy.accepted.values()].reduce((sum, n) => sum + n, 0);
  let pending = await pendingEmails(ctx.db);
  let countedAt = performance.now();
  while (pending > 0 && performance.now() - createsEnded < size.drainTimeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (acceptedSoFar() < invitationsAsked && performance.now() - countedAt < 5_000) continue;
    pending = await pendingEmails(ctx.db);
    countedAt = performance.now();
  }
  const drainSeconds = (performance.now() - createsEnded) / 1000;
  progress(`drained in ${drainSeconds.toFixed(1)} s (${pending} pending); checking`);
  const recorded = ctx.recorder.stop();
  if (pending > 0) failures.push(`${pending} emails still pending ${Math.round(drainSeconds)} s after the last create`);

  // What the table holds, organization by organization.
  const invitations = size.createRequests * LOAD.emailsPerRequest;
  let stored = 0;
  let notSentOnce = 0;
  for (const org of orgs) {
    const items = await orgInvitations(ctx.db, org.id);
    stored += items.length;
    const ofOrg = reported.get(org.id) ?? new Map();
    const storedIds = new Set(items.map((item) => String(item.id)));
    const missing = [...ofOrg.keys()].filter((id) => !storedIds.has(id));
    const extra = [...storedIds].filter((id) => !ofOrg.has(id));
    if (missing.length || extra.length) failures.push(`${org.name}: ${missing.length} reported invitations not stored, ${extra.length} stored but not reported`);
    for (const item of items) {
      if (item.emailStatus !== 'SENT' || item.sendCount !== 1 || item.status !== 'PENDING') notSentOnce++;
    }
  }
  const reportedCount = [...reported.values()].reduce((sum, ofOrg) => sum + ofOrg.size, 0);
  if (reportedCount !== invitations) failures.push(`${reportedCount} invitations reported by 201s, ${invitations} asked for`);
  if (stored !== invitations) failures.push(`${stored} invitations stored, ${invitations} asked for`);
  if (notSentOnce) failures.push(`${notSentOnce} invitations not recorded as SENT exactly once`);

  // Emails: where SES answered, and what the emulator keeps.
  const addresses = new Set([...reported.values()].flatMap((ofOrg) => [...ofOrg.values()]));
  const accepted = ctx.sesProxy.accepted;
  let lost = 0;
  let duplicates = 0;
  let documentedDuplicates = 0;
  for (const address of addresses) {
    const count = accepted.get(address) ?? 0;
    if (count === 0) lost++;
    // An extra email is the documented case when SES took a send its sender had given up on.
    const explained = Math.min(Math.max(0, count - 1), ctx.sesProxy.abandoned.get(address) ?? 0);
    documentedDuplicates += explained;
    if (count > 1) duplicates += count - 1 - explained;
  }
  const strangers = [...accepted.keys()].filter((address) => !addresses.has(address)).length;
  const inEmulator = (await listLocalEmails(ctx.ses)).filter((email) => email.destination.to.some((to) => addresses.has(to))).length;
  await fetch(new URL('/clear-store', ctx.ses), { method: 'POST' });
  const acceptedTotal = [...accepted.values()].reduce((sum, n) => sum + n, 0);
  if (lost) failures.push(`${lost} invitations got no email`);
  if (duplicates) {
    const examples = [...addresses].filter((address) => (accepted.get(address) ?? 0) > 1).slice(0, 3);
    const sends = examples.map((address) => `${address}: ${ctx.sesProxy.sends[address]?.join('; ')}`).join(' | ');
    failures.push(`${duplicates} duplicate emails beyond the documented case (SES took a send whose sender had timed out); e.g. ${sends}`);
  }
  if (strangers) failures.push(`${strangers} addresses got an email without an invitation`);
  if (inEmulator !== acceptedTotal) failures.push(`the SES emulator holds ${inEmulator} emails of this run, SES accepted ${acceptedTotal}`);

  const serverErrors = [...statuses].filter(([key]) => Number(key.split(' ')[1]) >= 500).reduce((sum, [, n]) => sum + n, 0);
  if (serverErrors) failures.push(`${serverErrors} responses were 5xx`);
  if (unexpected.length) failures.push(`unexpected statuses: ${unexpected.join('; ')}`);

  // The floor: the same DynamoDB commands, replayed directly.
  let floor = reference;
  if (!floor) {
    progress('checked; replaying the floor');
    floor = await replayFloor(recorded, { table: TABLE, concurrency: LOAD.concurrency });
    progress('floor replayed');
  }
  const throughput = invitations / createSeconds;
  const floorThroughput = invitations / floor.apiSeconds;
  return {
    name,
    failures,
    invitations,
    throughput,
    floorThroughput,
    createSeconds,
    drainSeconds,
    floorDrainSeconds: floor.deliverySecondsAfterApi,
    latency: summarize(latencies),
    floorLatency: summarize(floor.latencies),
    statuses: Object.fromEntries(statuses),
    emails: { accepted: acceptedTotal, inEmulator, lost, duplicates, documentedDuplicates, refusedWhileDown: ctx.sesProxy.refused },
    deadLettered: ctx.deadLetters.length - deadLettersBefore,
    faults: faults?.log ?? [],
    invocations: invocationCounts(recorded),
    /** Whose floor this run is compared with: its own replay, or the clean run's. */
    floorFrom: reference ? 'the clean run' : 'this run',
    floor,
    floorConditionFailures: floor.conditionFailures,
    floorLockRetries: floor.lockRetries,
  };
}

/** The second run's faults: the delivery poller stopped and restarted, SES down for a while. */
function faultSchedule(ctx: LoadContext) {
  const log: string[] = [];
  const t0 = performance.now();
  const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const pending: Promise<void>[] = [];
  let pausedDelivery = false;
  let sesDown = false;
  return {
    log,
    get finished() {
      return Promise.all(pending);
    },
    async progress(share: number) {
      if (!pausedDelivery && share >= FAULTS.pauseDeliveryAt) {
        pausedDelivery = true;
        pending.push(
          (async () => {
            log.push(`${at()}: delivery poller stopped`);
            await ctx.events.pauseDelivery();
            await new Promise((resolve) => setTimeout(resolve, FAULTS.pauseDeliveryForMs));
            await ctx.events.resumeDelivery();
            log.push(`${at()}: delivery poller restarted from its checkpoint`);
          })(),
        );
      }
      if (!sesDown && share >= FAULTS.sesDownAt) {
        sesDown = true;
        pending.push(
          (async () => {
            ctx.sesProxy.down = true;
            log.push(`${at()}: SES unavailable (503)`);
            await new Promise((resolve) => setTimeout(resolve, FAULTS.sesDownForMs));
            ctx.sesProxy.down = false;
            log.push(`${at()}: SES back`);
          })(),
        );
      }
    },
  };
}

// ------------------------------------------------------------------ helpers



/** Emails still waiting in the pending-email index, over every shard (and the pre-sharding partition). */
async function pendingEmails(db: DynamoDBDocumentClient): Promise<number> {
  const partitions = [...Array.from({ length: PENDING_EMAIL_SHARDS }, (_, shard) => keys.pendingEmailPartition(shard)), keys.legacyPendingEmailPartition];
  const counts = await Promise.all(
    partitions.map(async (partition) => {
      let count = 0;
      const pages = paginateQuery(
        { client: db },
        {
          TableName: TABLE,
          IndexName: tableSchema.pendingEmailIndex.name,
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': partition },
          Select: 'COUNT',
        },
      );
      for await (const page of pages) count += page.Count ?? 0;
      return count;
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

async function orgInvitations(db: DynamoDBDocumentClient, orgId: number) {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: db },
    {
      TableName: TABLE,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
      ExpressionAttributeValues: { ':pk': keys.orgPartition(orgId), ':inv': 'INV#' },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}

function summarize(latencies: Latencies) {
  return Object.fromEntries(
    Object.entries(latencies).map(([endpoint, samples]) => {
      samples.sort((a, b) => a - b);
      const at = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!;
      return [endpoint, { count: samples.length, p50: round(at(0.5)), p99: round(at(0.99)) }];
    }),
  );
}

function round(value: number) {
  return Math.round(value * 10) / 10;
}

function printReport(report: Awaited<ReturnType<typeof loadRun>>) {
  console.log(`\nLoad run "${report.name}": ${report.invitations} invitations, ${LOAD.organizations} organizations, concurrency ${LOAD.concurrency}; floor: ${report.floorFrom}'s replay`);
  for (const line of report.faults) console.log(`  fault: ${line}`);
  const ratio = report.throughput / report.floorThroughput;
  console.table({
    'invitations/s': { service: round(report.throughput), floor: round(report.floorThroughput), ratio: round(ratio) },
    'drain after last create (s)': { service: round(report.drainSeconds), floor: round(report.floorDrainSeconds), ratio: '' },
  });
  const rows = Object.entries(report.latency).map(([endpoint, service]) => {
    const floor = report.floorLatency[endpoint];
    return { endpoint, requests: service.count, p50: service.p50, p99: service.p99, floorP50: floor?.p50, floorP99: floor?.p99 };
  });
  console.table(rows);
  console.log(`  statuses: ${JSON.stringify(report.statuses)}`);
  console.log(`  emails: ${JSON.stringify(report.emails)}; dead-lettered stream records: ${report.deadLettered}`);
  console.log(`  invocations: ${JSON.stringify(report.invocations)}; floor replays refused by a condition: ${report.floorConditionFailures}, retried after a DynamoDB Local lock timeout: ${report.floorLockRetries}`);
  if (ratio < LOAD.throughputTarget) console.log(`  throughput ${round(ratio)}× the floor's, under the ${LOAD.throughputTarget}× target`);
  console.log(report.failures.length ? `  FAILED:\n  - ${report.failures.join('\n  - ')}` : '  all assertions hold');
}

export type LoadReport = Awaited<ReturnType<typeof loadRun>>;
