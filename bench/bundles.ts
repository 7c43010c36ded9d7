/**
 * Bundle sizes and module load times, per function, next to a floor built the same way: a
 * bundle that only creates the same clients (SDK clients; the JWT verifier for the authorizer)
 * and exports an empty handler. Built with the CDK stack's own esbuild options (infra/).
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLING, REPO_ROOT } from '../infra/service-function.ts';
import { authorizerEntry, eventFunctions, routes } from '../shared/deployment/routes.ts';

export type FloorKind = 'dynamodb' | 'dynamodb+ses' | 'jwt';

export interface FunctionUnderTest {
  readonly id: string;
  readonly entry: string;
  readonly floor: FloorKind;
  readonly kind: 'api' | 'authorizer' | 'event';
}

/** Every deployed function (one per route, like the stack), de-duplicated by entry for bundling. */
export function functionsUnderTest(): FunctionUnderTest[] {
  const seen = new Set<string>();
  const list: FunctionUnderTest[] = [{ id: 'authorizer', entry: authorizerEntry, floor: 'jwt', kind: 'authorizer' }];
  for (const route of routes) list.push({ id: route.id, entry: route.entry, floor: 'dynamodb', kind: 'api' });
  for (const [id, fn] of Object.entries(eventFunctions)) {
    list.push({ id, entry: fn.entry, floor: fn.sendsEmail ? 'dynamodb+ses' : 'dynamodb', kind: 'event' });
  }
  return list.filter((fn) => (seen.has(fn.entry) ? false : (seen.add(fn.entry), true)));
}

const FLOOR_SOURCES: Record<FloorKind, string> = {
  dynamodb: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
export const handler = async () => ({ statusCode: 200, client: typeof client });`,
  'dynamodb+ses': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const ses = new SESv2Client({});
export const handler = async () => ({ client: typeof client, ses: typeof ses });`,
  jwt: `import { JwtVerifier } from 'aws-jwt-verify';
const verifier = JwtVerifier.create({ issuer: 'https://issuer.example', audience: null, jwksUri: 'https://issuer.example/jwks' });
export const handler = async () => ({ verifier: typeof verifier });`,
};

export interface BundleResult {
  readonly id: string;
  readonly file: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
}

const OUT_DIR = join(REPO_ROOT, '.local', 'bench', 'bundles');

export async function bundle(id: string, entryOrSource: { entry: string } | { source: string }): Promise<BundleResult> {
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, `${id}.mjs`);
  await build({
    ...('entry' in entryOrSource
      ? { entryPoints: [join(REPO_ROOT, entryOrSource.entry)] }
      : { stdin: { contents: entryOrSource.source, resolveDir: REPO_ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    mainFields: BUNDLING.mainFields,
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    logLevel: 'error',
  });
  const code = readFileSync(outfile);
  return { id, file: outfile, rawBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

export const bundleFloor = (kind: FloorKind) => bundle(`floor-${kind}`, { source: FLOOR_SOURCES[kind] });

/**
 * Median time to import the bundle in a fresh Node process (a cold start's module phase),
 * with the environment the function validates at init.
 */
export function medianLoadMs(file: string, env: Record<string, string>, runs: number): number {
  const probe = join(OUT_DIR, 'load-probe.mjs');
  writeFileSync(
    probe,
    `const t0 = performance.now(); await import(${JSON.stringify('file://' + file)}); process.stdout.write(String(performance.now() - t0));`,
  );
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, [probe], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
    samples.push(Number(result.stdout));
  }
  return median(samples);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
