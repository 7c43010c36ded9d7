/**
 * Bundles every function for real, with esbuild from devDependencies (no Docker), and loads each
 * bundle in a plain Node.js process the way Lambda does: ESM, the AWS SDK inside, the require
 * shim working, `handler` exported. Slow (all functions are bundled), hence its own file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_SHIM } from '../../infra/service-function.ts';
import { eventFunctions, routes } from '../../shared/deployment/routes.ts';
import { resourcesOfType, synth, type Synthesized } from './helpers.ts';

// + the authorizer, the event functions and the event pipe's enrichment (infra/events.ts).
const FUNCTION_COUNT = routes.length + 1 + Object.keys(eventFunctions).length + 1;

let outdir: string;
let built: Synthesized;
/** Function name → directory of its bundle. */
const bundles = new Map<string, string>();

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'invitations-cdk-'));
  built = synth({ 'aws:cdk:enable-asset-metadata': true }, { bundle: true, outdir });
  for (const fn of Object.values(resourcesOfType(built.template, 'AWS::Lambda::Function'))) {
    const assetPath = (fn as { Metadata?: Record<string, string> }).Metadata?.['aws:asset:path'];
    if (assetPath) bundles.set(fn.Properties.FunctionName as string, join(outdir, assetPath));
  }
}, 300_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('function bundles', () => {
  it('bundles every function as minified ESM with a source map and the require shim', () => {
    expect(bundles.size).toBe(FUNCTION_COUNT);
    for (const [name, dir] of bundles) {
      const code = join(dir, 'index.mjs');
      expect(existsSync(code), name).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), name).toBe(true);
      const text = readFileSync(code, 'utf8');
      expect(text.startsWith(ESM_REQUIRE_SHIM), name).toBe(true);
      // Minified: few, long lines. Well under Lambda's 50 MB zipped / 250 MB unzipped limits.
      expect(text.split('\n').length, name).toBeLessThan(100);
      expect(statSync(code).size, name).toBeLessThan(5 * 1024 * 1024);
      // The AWS SDK is inside the bundle, not imported from the runtime's copy. (The SDK's own
      // error messages about optional signers quote "[require('@aws-sdk/...')]"; those are text.)
      const sdkImport = /(?<![[\w$])(from\s*|import\s*\(\s*|require\(\s*)["']@aws-sdk\/[^"']*["']/.exec(text);
      expect(sdkImport?.[0], name).toBeUndefined();
    }
  });

  // The bundles sit in a temporary directory with no node_modules above it: anything not
  // bundled (other than Node.js built-ins) would fail to resolve here. Each one is loaded with
  // exactly the environment variables the stack gives its function (references to other
  // resources replaced by sample values), so a configuration the function would refuse at cold
  // start fails here.
  it('loads every bundle in plain Node.js with its function’s environment, exporting handler', () => {
    const samples: Record<string, string> = { TABLE_NAME: 'invitations', SES_CONFIGURATION_SET: 'invitations' };
    const functions: Record<string, { file: string; env: Record<string, string> }> = {};
    for (const fn of Object.values(resourcesOfType(built.template, 'AWS::Lambda::Function'))) {
      const name = fn.Properties.FunctionName as string;
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      const env = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : (samples[key] ?? `sample-${key}`)]),
      );
      functions[name] = { file: join(bundles.get(name)!, 'index.mjs'), env: { ...env, AWS_LAMBDA_FUNCTION_NAME: name } };
    }
    const script = `
      const base = { ...process.env };
      const results = {};
      for (const [name, { file, env }] of Object.entries(JSON.parse(process.argv[1]))) {
        for (const key of Object.keys(process.env)) delete process.env[key];
        Object.assign(process.env, base, env);
        try { results[name] = typeof (await import(file)).handler; }
        catch (error) { results[name] = 'failed: ' + error.message; }
      }
      process.stdout.write(JSON.stringify(results));`;
    const output = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script, JSON.stringify(functions)], {
      // What Lambda provides besides the function's own variables.
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const results = JSON.parse(output) as Record<string, string>;
    expect(Object.keys(results)).toHaveLength(FUNCTION_COUNT);
    for (const [name, type] of Object.entries(results)) expect(type, name).toBe('function');
  });
});
