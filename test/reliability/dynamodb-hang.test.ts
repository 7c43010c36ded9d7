/**
 * A DynamoDB that hangs (accepts the connection and never answers) behind the real handlers and
 * the local gateway: the request must end in the designed 503 + Retry-After, well before the
 * function's timeout (whose answer on AWS would be API Gateway's bare 500), and change nothing.
 *
 * The hang is real, below the SDK: chosen operations are sent to a local TCP server that never
 * writes a byte, so the SDK's own request timeout, retries and backoff run as they would against
 * AWS. The invocation's deadline (shared/deadline.ts) is what ends the request.
 */
import { expect, it } from 'vitest';
import { FUNCTION_SIZES } from '../../shared/deployment/function-sizes.ts';
import { DYNAMODB_CALL_LIMITS } from '../../shared/adapters/dynamodb/client.ts';
import { injectWireFaults } from '../support/dynamodb-faults.ts';
import { orgWithInvitation, paths, type TestUser } from '../support/fixtures.ts';
import { expectConsistentOrganization, partitionState } from '../support/invariants.ts';
import { assertResponseMatchesSpec } from '../support/openapi.ts';
import { useTestStack } from '../support/stack.ts';

const { stack, user } = useTestStack();

const TIMEOUT_MS = FUNCTION_SIZES.api.timeoutSeconds * 1000;
/** The 503 must come at least this long before Lambda would time the function out. */
const REQUIRED_MARGIN_MS = 1_000;
const TEST_TIMEOUT_MS = TIMEOUT_MS + 20_000;

const hang = (operations: string[], times?: number) =>
  injectWireFaults([{ operations, fault: { kind: 'network', failure: 'hang' }, times }], { ignore: [stack.db] });

async function timedRequest(method: string, path: string, caller: TestUser, body?: unknown) {
  const started = performance.now();
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${caller.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const elapsedMs = performance.now() - started;
  const parsed = JSON.parse(text);
  assertResponseMatchesSpec({ method, path, status: response.status, body: parsed, headers: Object.fromEntries(response.headers.entries()) });
  return { status: response.status, headers: response.headers, body: parsed, text, elapsedMs };
}

function expectServiceUnavailableInTime(response: Awaited<ReturnType<typeof timedRequest>>) {
  expect(response.status, response.text).toBe(503);
  expect(response.body).toEqual({ status: 503, message: expect.any(String) });
  expect(response.body.message).not.toMatch(/Exception|DynamoDB|Abort|Deadline|socket|timeout|at .+\.ts/i);
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(response.elapsedMs, `answered after ${Math.round(response.elapsedMs)} ms; the function times out at ${TIMEOUT_MS} ms`).toBeLessThan(
    TIMEOUT_MS - REQUIRED_MARGIN_MS,
  );
}

it(
  'read route (GET organization): a hanging GetItem ends in 503 + Retry-After before the function timeout',
  async () => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const wire = await hang(['GetItem']);
    const response = await timedRequest('GET', paths.organization(org.name), admin).finally(() => wire.restore());

    expectServiceUnavailableInTime(response);
    // The SDK's request timeout is enforced: the hung attempt was abandoned and retried.
    expect(wire.attemptsOf('GetItem').length).toBeGreaterThanOrEqual(2);
  },
  TEST_TIMEOUT_MS,
);

it(
  'transactional write route (accept an invitation): a hanging TransactWriteItems ends in 503 + Retry-After before the function timeout, nothing written',
  async () => {
    const { org, invitee, invitation } = await orgWithInvitation(stack, user);
    const before = await partitionState(stack, org.id);

    const wire = await hang(['TransactWriteItems']);
    const response = await timedRequest('PUT', paths.invitation(org.name, invitation.id), invitee, { status: 'ACCEPTED' }).finally(() =>
      wire.restore(),
    );

    expectServiceUnavailableInTime(response);
    expect(wire.attemptsOf('TransactWriteItems').length).toBeGreaterThanOrEqual(2);
    expect(await expectConsistentOrganization(stack, org.id)).toEqual(before);
  },
  TEST_TIMEOUT_MS,
);

it(
  'transactional write route (create invitations): a hanging TransactWriteItems ends in 503 + Retry-After before the function timeout, nothing written',
  async () => {
    const { admin, org } = await orgWithInvitation(stack, user);
    const before = await partitionState(stack, org.id);

    const wire = await hang(['TransactWriteItems']);
    const response = await timedRequest('POST', paths.invitations(org.name), admin, { emails: ['someone.new@example.com'] }).finally(() =>
      wire.restore(),
    );

    expectServiceUnavailableInTime(response);
    expect(await expectConsistentOrganization(stack, org.id)).toEqual(before);
  },
  TEST_TIMEOUT_MS,
);

it(
  'one hung attempt is abandoned after the request timeout and retried: 200, in about one request timeout',
  async () => {
    const { admin, org } = await orgWithInvitation(stack, user);

    const wire = await hang(['GetItem'], 1);
    const response = await timedRequest('GET', paths.organization(org.name), admin).finally(() => wire.restore());

    expect(response.status, response.text).toBe(200);
    expect(wire.attemptsOf('GetItem').map((a) => a.failed).slice(0, 2)).toEqual([true, false]);
    expect(response.elapsedMs).toBeGreaterThanOrEqual(DYNAMODB_CALL_LIMITS.requestTimeoutMs - 100);
    expect(response.elapsedMs).toBeLessThan(TIMEOUT_MS - REQUIRED_MARGIN_MS);
  },
  TEST_TIMEOUT_MS,
);
