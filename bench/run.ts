/**
 * `npm run bench`: bundle sizes and module load times per function, warm latency per endpoint
 * through the local stack, DynamoDB calls and capacity per request, authorizer verification
 * time, and a cost estimate, each next to a floor measured in the same run. Prints a table,
 * writes JSON to .local/bench/results.json.
 *
 *   --check          fail (exit 1) when a budget is exceeded
 *   --deterministic  sizes and call counts only (what CI checks); no timings
 *   --requests N     requests per endpoint and concurrency (default 500)
 *   --only a,b       only these endpoints (names as in bench/endpoints.ts): their call counts and
 *                    latency rows; no bundles, no module load, no cost estimate
 *   --load           the load test instead (bench/load.ts): invitations end to end, clean and
 *                    with faults; exit 1 when an assertion fails
 *   --invitations N  with --load: invitations per run (default 10,000)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { toMembershipItem } from '../shared/adapters/dynamodb/items.ts';
import { createInvitationsClient, type InvitationsClient } from '../client/index.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/service-function.ts';
import { FUNCTION_SIZES } from '../infra/stack.ts';
import { startLocalApi } from '../local/api-gateway.ts';
import { createTable } from '../local/create-table.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { localFunctionEnvironment } from '../local/environment.ts';
import { LocalIssuer } from '../local/issuer.ts';
import { bundle, bundleFloor, functionsUnderTest, median, medianLoadMs, type FloorKind } from './bundles.ts';
import { installDynamoDbMeter, meterReading, setMeterLabel } from './dynamodb-meter.ts';
import { createInvitationsRequest, endpoints, type BenchRequest, type Endpoint, type Fixture } from './endpoints.ts';
import { costEstimate, PRICES } from './cost.ts';

/** One typed client per token (a client is a few closures; tokens repeat across requests). */
const clients = new Map<string, InvitationsClient>();

const { values: options } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    deterministic: { type: 'boolean', default: false },
    requests: { type: 'string', default: '500' },
    only: { type: 'string' },
    load: { type: 'boolean', default: false },
    invitations: { type: 'string' },
  },
});
if (options.load) {
  const { runLoadTest } = await import('./load.ts');
  process.exit(await runLoadTest({ invitations: options.invitations === undefined ? undefined : Number(options.invitations) }));
}
/** The endpoints --only names, or undefined for all. */
const only = options.only === undefined ? undefined : new Set(options.only.split(',').map((name) => name.trim()).filter(Boolean));
const REQUESTS = Number(options.requests);
const LOAD_RUNS = 15;
const CALL_SAMPLES = 10;
const WARM_UP = 20;
const counters = new Map<string, number>();
const nextIndex = (name: string) => {
  const index = counters.get(name) ?? 0;
  counters.set(name, index + 1);
  return index;
};
const TABLE = 'bench';

export const BUDGETS = {
  apiGzipBytes: 150 * 1024,
  authorizerGzipBytes: 10 * 1024,
  loadRatio: 1.2,
  warmOverheadRatioP50: 1.5,
};

const failures: string[] = [];
const budget = (ok: boolean, text: string) => {
  if (!ok) failures.push(text);
  return ok ? 'ok' : 'OVER';
};
const started = Date.now();

// ------------------------------------------------------------------ bundles and module load
const issuer = LocalIssuer.ephemeral();
const functionEnv = {
  ...localFunctionEnvironment({ tableName: TABLE, dynamodbEndpoint: 'http://127.0.0.1:9', sesEndpoint: 'http://127.0.0.1:9', issuer }),
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};
const floors = new Map<FloorKind, Awaited<ReturnType<typeof bundleFloor>>>();
if (!only) for (const kind of ['dynamodb', 'dynamodb+ses', 'jwt'] as const) floors.set(kind, await bundleFloor(kind));
const floorLoad = new Map<FloorKind, number>();
if (!options.deterministic && !only) for (const [kind, floor] of floors) floorLoad.set(kind, medianLoadMs(floor.file, functionEnv, LOAD_RUNS));

const bundleRows = [];
for (const fn of only ? [] : functionsUnderTest()) {
  const built = await bundle(fn.id, { entry: fn.entry });
  const floor = floors.get(fn.floor)!;
  const loadMs = options.deterministic ? undefined : medianLoadMs(built.file, functionEnv, LOAD_RUNS);
  const sizeBudget = fn.kind === 'authorizer' ? BUDGETS.authorizerGzipBytes : fn.kind === 'api' ? BUDGETS.apiGzipBytes : undefined;
  const loadRatio = loadMs === undefined ? undefined : loadMs / floorLoad.get(fn.floor)!;
  bundleRows.push({
    function: fn.id,
    rawKB: kb(built.rawBytes),
    gzipKB: kb(built.gzipBytes),
    floorGzipKB: kb(floor.gzipBytes),
    sizeBudget: sizeBudget === undefined ? '-' : budget(built.gzipBytes <= sizeBudget, `${fn.id}: ${kb(built.gzipBytes)} KB gzip > ${kb(sizeBudget)} KB`),
    loadMs: round(loadMs),
    floorLoadMs: round(floorLoad.get(fn.floor)),
    loadRatio: round(loadRatio),
    loadBudget:
      loadRatio === undefined ? '-' : budget(loadRatio <= BUDGETS.loadRatio, `${fn.id}: module load ${round(loadRatio)}× the floor > ${BUDGETS.loadRatio}×`),
  });
}
if (!only) {
  console.log('\nBundles (as the CDK stack builds them) and module load (median of 15 fresh processes)');
  console.table(bundleRows);
}

// ------------------------------------------------------------------ the local stack
const dynamodb = await startDynamoDbLocal({ inMemory: true });
try {
  installDynamoDbMeter();
  Object.assign(
    process.env,
    localFunctionEnvironment({ tableName: TABLE, dynamodbEndpoint: dynamodb.endpoint, sesEndpoint: 'http://127.0.0.1:9', issuer }),
    { POWERTOOLS_LOG_LEVEL: 'SILENT', RATE_LIMIT_CREATE: '1000000000/600', RATE_LIMIT_RESEND: '1000000000/600' },
  );
  const raw = new DynamoDBClient({ endpoint: dynamodb.endpoint });
  const db = DynamoDBDocumentClient.from(raw);
  await createTable(raw, TABLE);
  const api = await startLocalApi({ jwks: issuer.jwks });
  // Endpoints that use up a seeded invitation or member per request; --only without them seeds none.
  const consuming = ['answerInvitation', 'revokeInvitation', 'removeMember'];
  const answersNeeded = only && !consuming.some((name) => only.has(name)) ? 0 : CALL_SAMPLES + (options.deterministic ? 0 : 2 * (REQUESTS + WARM_UP));
  const fixture = await seed(api.url, db, answersNeeded);
  const all = endpoints(db, TABLE, fixture);
  const unknown = [...(only ?? [])].filter((name) => !all.some((endpoint) => endpoint.name === name));
  if (unknown.length > 0) throw new Error(`--only: no endpoint ${unknown.join(', ')} (there are: ${all.map((e) => e.name).join(', ')})`);
  const list = only ? all.filter((endpoint) => only.has(endpoint.name)) : all;

  // DynamoDB calls and capacity per request (sequential, labelled).
  const callRows = [];
  for (const endpoint of list) {
    setMeterLabel(endpoint.name);
    for (let i = 0; i < CALL_SAMPLES; i++) await send(api.url, endpoint.request(nextIndex(endpoint.name)));
    setMeterLabel(undefined);
    const reading = meterReading(endpoint.name);
    const calls = reading.calls / CALL_SAMPLES;
    callRows.push({
      endpoint: endpoint.name,
      calls,
      documented: endpoint.documentedCalls,
      budget: budget(calls === endpoint.documentedCalls, `${endpoint.name}: ${calls} DynamoDB calls per request, documented ${endpoint.documentedCalls}`),
      RCU: round(reading.readCapacity / CALL_SAMPLES),
      WCU: round(reading.writeCapacity / CALL_SAMPLES),
      commands: Object.entries(reading.commands).map(([c, n]) => `${c.replace('Command', '')}×${n / CALL_SAMPLES}`).join(' '),
    });
  }
  // Create with 10 emails must make as many calls as with 1.
  const one = callRows.find((row) => row.endpoint === 'createInvitations');
  if (one) {
    setMeterLabel('createInvitations×10');
    for (let i = 0; i < CALL_SAMPLES; i++) {
      const emails = Array.from({ length: 10 }, (_, j) => `ten-${i}-${j}-${Date.now()}@bench.test`);
      await send(api.url, createInvitationsRequest(fixture, emails));
    }
    setMeterLabel(undefined);
    const ten = meterReading('createInvitations×10');
    callRows.push({
      endpoint: 'createInvitations (10 emails)',
      calls: ten.calls / CALL_SAMPLES,
      documented: one.documented,
      budget: budget(ten.calls / CALL_SAMPLES === one.calls, `create with 10 emails makes ${ten.calls / CALL_SAMPLES} calls, with 1: ${one.calls}`),
      RCU: round(ten.readCapacity / CALL_SAMPLES),
      WCU: round(ten.writeCapacity / CALL_SAMPLES),
      commands: Object.entries(ten.commands).map(([c, n]) => `${c.replace('Command', '')}×${n / CALL_SAMPLES}`).join(' '),
    });
  }
  console.log('\nDynamoDB calls and consumed capacity per request (SDK middleware, ReturnConsumedCapacity)');
  console.table(callRows);

  const latencyRows = [];
  let authorizerMs: number | undefined;
  if (!options.deterministic) {
    for (const endpoint of list) {
      for (const concurrency of [1, 8]) {
        // Every request and floor run gets a fresh index: answers and floor writes must not repeat.
        const { service, floor } = await measurePair(
          REQUESTS,
          concurrency,
          () => send(api.url, endpoint.request(nextIndex(endpoint.name))),
          () => endpoint.floor(nextIndex(`${endpoint.name}-floor`)),
        );
        const ratio = service.p50 / floor.p50;
        latencyRows.push({
          endpoint: endpoint.name,
          concurrency,
          p50: round(service.p50),
          p95: round(service.p95),
          p99: round(service.p99),
          floorP50: round(floor.p50),
          floorP99: round(floor.p99),
          ratioP50: round(ratio),
          budget: budget(ratio <= BUDGETS.warmOverheadRatioP50, `${endpoint.name} @${concurrency}: p50 ${round(ratio)}× the floor > ${BUDGETS.warmOverheadRatioP50}×`),
        });
      }
    }
    console.log(`\nWarm latency in ms through the local stack (${REQUESTS} requests each), floor = the same DynamoDB calls made directly`);
    console.table(latencyRows);

    const { handler } = (await import('../functions/authorizer.ts')) as { handler: (event: unknown) => Promise<unknown> };
    const token = fixture.adminToken;
    const event = { headers: { authorization: `Bearer ${token}` }, requestContext: {} };
    for (let i = 0; i < 50; i++) await handler(event);
    const t0 = performance.now();
    const runs = 1000;
    for (let i = 0; i < runs; i++) await handler(event);
    authorizerMs = (performance.now() - t0) / runs;
    console.log(`\nAuthorizer: ${round(authorizerMs)} ms per token verified (RS256, warm JWKS cache, ${runs} runs)`);
  }

  const cost = only ? undefined : costEstimate({
    latency: latencyRows,
    calls: callRows,
    authorizerMs,
    memoryMb: FUNCTION_SIZES.api.memorySize,
    deliveryMemoryMb: FUNCTION_SIZES.delivery.memorySize,
  });
  if (cost) {
    console.log('\nEstimated AWS cost (list prices, us-east-1, arm64; see PRICES in bench/cost.ts)');
    console.table(cost.rows);
  }

  const results = { date: new Date().toISOString(), node: process.version, requests: REQUESTS, only: only && [...only], bundles: bundleRows, calls: callRows, latency: latencyRows, authorizerMs, cost, prices: PRICES, budgets: BUDGETS, failures };
  mkdirSync(join(REPO_ROOT, '.local', 'bench'), { recursive: true });
  // A partial run does not replace the full run's results.
  const out = join(REPO_ROOT, '.local', 'bench', only ? 'results-only.json' : 'results.json');
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nResults: ${out} (${Math.round((Date.now() - started) / 1000)} s)`);
  await api.close();
  raw.destroy();
} finally {
  await dynamodb.stop();
}

if (failures.length > 0) {
  console.log(`\nBudgets exceeded:\n- ${failures.join('\n- ')}`);
  if (options.check) process.exit(1);
} else {
  console.log(`\nAll ${options.deterministic ? 'deterministic ' : ''}budgets hold.`);
}
process.exit(0);

// ------------------------------------------------------------------ helpers
async function send<T extends Awaited<ReturnType<BenchRequest['send']>>>(baseUrl: string, request: { token: string; expect: number; send(api: InvitationsClient): Promise<T> }): Promise<T> {
  let api = clients.get(request.token);
  if (!api) clients.set(request.token, (api = createInvitationsClient(baseUrl, { token: request.token })));
  const result = await request.send(api);
  if (result.response.status !== request.expect) {
    const url = new URL(result.response.url);
    throw new Error(`${url.pathname}${url.search}: expected ${request.expect}, got ${result.response.status} ${JSON.stringify(result.error ?? result.data)?.slice(0, 200)}`);
  }
  return result;
}

/**
 * Service and floor interleaved, request by request (each worker alternates), so that whatever
 * else the machine is doing weighs on both alike; a ratio of two separate runs would mostly
 * measure the noise between them.
 */
async function measurePair(count: number, concurrency: number, service: () => Promise<unknown>, floor: () => Promise<unknown>) {
  for (let i = 0; i < WARM_UP; i++) {
    await service();
    await floor();
  }
  const samples = { service: [] as number[], floor: [] as number[] };
  const timed = async (run: () => Promise<unknown>, into: number[]) => {
    const t0 = performance.now();
    await run();
    into.push(performance.now() - t0);
  };
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let turn = worker; started < count; turn++) {
        started++;
        // Alternate which goes first, so neither always follows the other.
        if (turn % 2 === 0) {
          await timed(service, samples.service);
          await timed(floor, samples.floor);
        } else {
          await timed(floor, samples.floor);
          await timed(service, samples.service);
        }
      }
    }),
  );
  return { service: percentiles(samples.service), floor: percentiles(samples.floor) };
}

function percentiles(samples: number[]) {
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!;
  return { p50: median(samples), p95: at(0.95), p99: at(0.99) };
}

async function seed(baseUrl: string, db: DynamoDBDocumentClient, answers: number): Promise<Fixture> {
  const adminSub = 'bench-admin';
  const adminToken = issuer.token({ sub: adminSub, email: 'admin@bench.test', username: 'bench-admin', expiresIn: 7200 });
  const orgName = 'bench-org';
  const createOrganization = async (name: string) => {
    const created = await send(baseUrl, {
      token: adminToken,
      expect: 201,
      send: (client) => client.POST('/v1/organizations', { body: { name, contactEmail: 'org@bench.test', visibility: 'PRIVATE' } }),
    });
    const id = created.data?.id;
    if (id === undefined) throw new Error(`organization ${name} created without an id`);
    return { ...created.data, id };
  };
  const org = await createOrganization(orgName);
  const invite = async (emails: string[]) => {
    const { data } = await send(baseUrl, createInvitationsRequest({ orgName, adminToken }, emails));
    if (!data || !('invitations' in data)) throw new Error(`no invitations created for ${emails.join(', ')}`);
    return data.invitations.map(({ id, userEmail, expirationDate }) => ({ id: id!, userEmail, expirationDate }));
  };
  const [first] = await invite(['reader@bench.test']);
  for (let i = 0; i < 19; i++) await invite([`listed-${i}@bench.test`]);
  const pool = async (prefix: string, count: number) => {
    const list: Fixture['toAnswer'] = [];
    for (let i = 0; i < count; i += 10) {
      const emails = Array.from({ length: Math.min(10, count - i) }, (_, j) => `${prefix}-${i + j}@bench.test`);
      for (const invitation of await invite(emails)) {
        const sub = invitation.userEmail.split('@')[0]!;
        list.push({
          id: invitation.id,
          email: invitation.userEmail,
          expirationDate: invitation.expirationDate,
          token: issuer.token({ sub, email: invitation.userEmail, expiresIn: 7200 }),
        });
      }
    }
    return list;
  };
  // A plain member whose role updateMember changes back and forth.
  const memberSub = 'bench-member';
  const [membership] = await invite(['member@bench.test']);
  const memberToken = issuer.token({ sub: memberSub, email: 'member@bench.test', expiresIn: 7200 });
  await send(baseUrl, {
    token: memberToken,
    expect: 200,
    send: (client) =>
      client.PUT('/v1/organizations/{name}/invitations/{uuid}', {
        params: { path: { name: orgName, uuid: membership!.id } },
        body: { userEmail: membership!.userEmail, expirationDate: membership!.expirationDate, status: 'ACCEPTED' },
      }),
  });
  const toAnswer = await pool('invitee', answers);
  const toAnswerByFloor = await pool('floor-invitee', answers);
  const toRevoke = await pool('revoked', answers);
  const toRevokeByFloor = await pool('floor-revoked', answers);
  // Members to remove, written directly (inviting and accepting each would only slow the seeding).
  const members = async (prefix: string) => {
    const userIds = Array.from({ length: answers }, (_, i) => `${prefix}-${i}`);
    for (let i = 0; i < userIds.length; i += 25) {
      await Promise.all(
        userIds.slice(i, i + 25).map((userId) =>
          db.send(new PutCommand({ TableName: TABLE, Item: toMembershipItem({ orgId: org.id, userId, username: userId, email: `${userId}@bench.test`, associationType: 'MEMBER' }) })),
        ),
      );
    }
    return userIds;
  };
  // An invitee with a pending invitation from each of three more organizations ("my invitations").
  const myEmail = 'my-invitations@bench.test';
  const inviterOrgIds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `bench-inviter-${i}`;
    const inviter = await createOrganization(name);
    await send(baseUrl, createInvitationsRequest({ orgName: name, adminToken }, [myEmail]));
    inviterOrgIds.push(inviter.id);
  }
  const myInvitations = { email: myEmail, inviterOrgIds, token: issuer.token({ sub: 'bench-my-invitations', email: myEmail, expiresIn: 7200 }) };
  const toRemove = await members('removed');
  const toRemoveByFloor = await members('floor-removed');
  return {
    orgId: org.id, orgName, adminSub, adminToken, memberSub, invitationId: first!.id, invitationEmail: 'reader@bench.test',
    toAnswer, toAnswerByFloor, toRevoke, toRevokeByFloor, toRemove, toRemoveByFloor, myInvitations,
  };
}

function kb(bytes: number) {
  return Math.round((bytes / 1024) * 10) / 10;
}

function round(value: number | undefined) {
  return value === undefined ? undefined : Math.round(value * 100) / 100;
}

export type { Endpoint };
