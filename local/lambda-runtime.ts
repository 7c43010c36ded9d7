/**
 * Running a handler as Lambda would, for the local gateway and event sources: a context whose
 * remaining time counts down to the function's deadline, and an invocation that fails past it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { FUNCTION_SIZES } from '../shared/deployment/function-sizes.ts';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Lambda's error when a function runs past its timeout. */
export class FunctionTimeout extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`${functionName}: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
    this.name = 'FunctionTimeout';
  }
}

/** The function invocation the current code runs in (what a Lambda instance knows of itself). */
export interface Invocation {
  readonly functionName: string;
  readonly id: string;
}
const invocations = new AsyncLocalStorage<Invocation>();

/**
 * The invocation the caller runs in, if any: lets local tooling (the load test's DynamoDB
 * recorder) attribute work to the invocation that did it, as one Lambda instance would.
 */
export function currentInvocation(): Invocation | undefined {
  return invocations.getStore();
}

/** Runs `run` as one invocation of `functionName`. */
export function inInvocation<T>(functionName: string, run: () => T): T {
  return invocations.run({ functionName, id: randomUUID() }, run);
}

/** Runs a handler with a Lambda deadline: its context counts down to it, and past it the invocation fails. */
export async function invoke(handler: LambdaHandler, event: unknown, functionName: string, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeout(functionName, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([inInvocation(functionName, () => handler(event, lambdaContext(functionName, deadline))), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Lambda context good enough for Powertools and middy. `deadline` (epoch ms) is when the
 * invocation times out; by default an api function's timeout from now.
 */
export function lambdaContext(functionName: string, deadline = Date.now() + FUNCTION_SIZES.api.timeoutSeconds * 1000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: String(FUNCTION_SIZES.api.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
