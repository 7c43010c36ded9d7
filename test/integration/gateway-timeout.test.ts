/**
 * Lambda timeouts through the local gateway, with the timeout made short for the test. The fault:
 * a server that accepts connections and never answers, standing in for DynamoDB (the handlers'
 * DYNAMODB_ENDPOINT) and for the issuer's JWKS endpoint (the authorizer's JWT_JWKS_URI).
 *
 * - A route handler gets the real deadline from getRemainingTimeInMillis, so its own time budget
 *   (shared/deadline.ts: the remaining time minus FUNCTION_SIZES.api.deadlineMarginMs) ends a call
 *   stuck on DynamoDB with the designed 503 + Retry-After before the Lambda timeout, as on Lambda.
 * - A function that does not return by the deadline (here the authorizer, waiting on the JWKS
 *   for an unknown kid) is a failed invocation: the gateway answers 500 {"message":"Internal
 *   Server Error"} at the deadline, as API Gateway does.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { localHttpApiSettings } from '../../local/api-gateway.ts';
import { lambdaContext } from '../../local/lambda-runtime.ts';
import { LocalIssuer } from '../../local/issuer.ts';
import { FUNCTION_SIZES } from '../../shared/deployment/function-sizes.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

// Longer than the API functions' deadline margin, so that the handler's budget is the remaining
// time minus that margin, as on Lambda.
const TIMEOUT_MS = FUNCTION_SIZES.api.deadlineMarginMs + 1000;

const sockets = new Set<Socket>();
const silentDynamoDb = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => silentDynamoDb.listen(0, '127.0.0.1', resolve));
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silentDynamoDb.close(() => resolve()));
});

const silentPort = (silentDynamoDb.address() as AddressInfo).port;
const { stack, user } = useTestStack(
  {
    ...RELAXED_RATE_LIMITS,
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${silentPort}`,
    JWT_JWKS_URI: `https://127.0.0.1:${silentPort}/certs`,
  },
  { gateway: { functionTimeoutMs: TIMEOUT_MS } },
);

async function timed(path: string, authorization: string) {
  const started = Date.now();
  const response = await fetch(`${stack.url}${path}`, { headers: { authorization, origin: 'http://localhost:3001' } });
  return { response, text: await response.text(), elapsed: Date.now() - started };
}

describe('function timeout', () => {
  it('gives handlers the real deadline: a handler stuck on DynamoDB answers 503 + Retry-After before the timeout', async () => {
    const { response, text, elapsed } = await timed('/v1/user/organizations', `Bearer ${user('patient').token}`);

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(text)).toEqual({ status: 503, message: expect.any(String) });
    // At the handler's deadline (the timeout minus the margin), not the gateway's timeout, and well
    // before the SDK's own 3 s request timeout would have ended the attempt.
    const deadlineMs = TIMEOUT_MS - FUNCTION_SIZES.api.deadlineMarginMs;
    expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS - 200);
  });

  it('answers 500 {"message":"Internal Server Error"} at the deadline for a function that does not return', async () => {
    // An unknown kid makes the authorizer fetch the JWKS, from a server that never answers.
    const stranger = LocalIssuer.ephemeral().token({ sub: 'stranger', email: 'stranger@example.com' });
    const { response, text, elapsed } = await timed('/v1/user/organizations', `Bearer ${stranger}`);

    expect(response.status).toBe(500);
    expect(text).toBe('{"message":"Internal Server Error"}');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3001');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it('still answers routes that need no table within the timeout', async () => {
    const response = await fetch(`${stack.url}/v1/nope`, { headers: { authorization: `Bearer ${user('lost').token}` } });
    expect(response.status).toBe(404);
  });

  it('defaults to the api functions’ Lambda timeout, and the context counts down to the deadline', () => {
    expect(localHttpApiSettings().functionTimeoutSeconds).toBe(FUNCTION_SIZES.api.timeoutSeconds);
    const context = lambdaContext('probe', Date.now() + 1500);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(1400);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(1500);
    expect(lambdaContext('past', Date.now() - 10).getRemainingTimeInMillis()).toBe(0);
    const byDefault = lambdaContext('default').getRemainingTimeInMillis();
    expect(byDefault).toBeGreaterThan(FUNCTION_SIZES.api.timeoutSeconds * 1000 - 100);
  });
});
