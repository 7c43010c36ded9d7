/**
 * A cost estimate from the measurements, at list prices (us-east-1, arm64, on-demand; check the
 * AWS pricing pages for your region and date). Lambda durations are the local warm p50 of the
 * handler path, a proxy for billed duration (real Lambda adds its own overhead and bills per ms).
 */
export const PRICES = {
  lambdaGbSecond: 0.0000133334, // arm64
  lambdaPerMillionRequests: 0.2,
  httpApiPerMillionRequests: 1.0,
  dynamodbPerMillionWriteUnits: 0.625,
  dynamodbPerMillionReadUnits: 0.125,
  sesPerThousandEmails: 0.1,
};

/**
 * The delivery function per email, approximately: the read (1 RRU, consistent) + the send
 * claim's UpdateItem (1 WRU) + SendEmail + the outcome's write (1 WRU); assumed 80 ms.
 */
const DELIVERY_ASSUMED_MS = 80;
const DELIVERY_WRITE_UNITS = 2;

interface Inputs {
  latency: Array<{ endpoint: string; concurrency: number; p50?: number }>;
  calls: Array<{ endpoint: string; RCU?: number; WCU?: number }>;
  authorizerMs: number | undefined;
  memoryMb: number;
  deliveryMemoryMb: number;
}

export function costEstimate(inputs: Inputs) {
  if (inputs.authorizerMs === undefined || inputs.latency.length === 0) return undefined;
  const p50 = (name: string) => inputs.latency.find((row) => row.endpoint === name && row.concurrency === 1)?.p50 ?? 0;
  const capacity = (name: string): { RCU?: number; WCU?: number } => inputs.calls.find((row) => row.endpoint === name) ?? {};
  const million = 1_000_000;
  const lambda = (ms: number, memoryMb: number) =>
    million * ((ms / 1000) * (memoryMb / 1024) * PRICES.lambdaGbSecond) + PRICES.lambdaPerMillionRequests;
  // Worst case for the authorizer: no cache hits (API Gateway caches verdicts for 5 minutes per token).
  const authorizer = lambda(inputs.authorizerMs, inputs.memoryMb);

  const create = capacity('createInvitations');
  const createCost = {
    apiGateway: PRICES.httpApiPerMillionRequests,
    lambda: lambda(p50('createInvitations'), inputs.memoryMb) + authorizer + lambda(DELIVERY_ASSUMED_MS, inputs.deliveryMemoryMb),
    dynamodb:
      ((create.WCU ?? 0) + DELIVERY_WRITE_UNITS) * PRICES.dynamodbPerMillionWriteUnits + ((create.RCU ?? 0) + 1) * PRICES.dynamodbPerMillionReadUnits,
    ses: PRICES.sesPerThousandEmails * 1000,
  };
  const read = capacity('getInvitation');
  const readCost = {
    apiGateway: PRICES.httpApiPerMillionRequests,
    lambda: lambda(p50('getInvitation'), inputs.memoryMb) + authorizer,
    dynamodb: (read.RCU ?? 0) * PRICES.dynamodbPerMillionReadUnits,
    ses: 0,
  };
  const row = (what: string, c: typeof createCost) => ({
    per: what,
    apiGatewayUSD: round(c.apiGateway),
    lambdaUSD: round(c.lambda),
    dynamodbUSD: round(c.dynamodb),
    sesUSD: round(c.ses),
    totalUSD: round(c.apiGateway + c.lambda + c.dynamodb + c.ses),
  });
  return {
    rows: [row('1M invitations created (1 per request, incl. email)', createCost), row('1M invitation reads', readCost)],
    assumptions: `Lambda ${inputs.memoryMb} MB (API), ${inputs.deliveryMemoryMb} MB (delivery, ${DELIVERY_ASSUMED_MS} ms assumed); authorizer billed on every request (no cache hits); durations = local warm p50.`,
  };
}

function round(value: number) {
  return Math.round(value * 100) / 100;
}
