/**
 * Memory and timeout of each kind of function: read by the CDK stack (infra/functions.ts) and by
 * the local API gateway, which enforces the same timeouts, so that local runs time out where
 * Lambda would.
 */
export type FunctionKind = 'api' | 'delivery' | 'sweep' | 'feedback';

/** Request-path functions get more memory (and with it CPU) for short cold starts. */
export const FUNCTION_SIZES: Record<FunctionKind, { readonly memorySize: number; readonly timeoutSeconds: number }> = {
  api: { memorySize: 512, timeoutSeconds: 10 },
  delivery: { memorySize: 256, timeoutSeconds: 60 },
  sweep: { memorySize: 256, timeoutSeconds: 120 },
  feedback: { memorySize: 256, timeoutSeconds: 30 },
};
