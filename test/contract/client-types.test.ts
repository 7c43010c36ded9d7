/**
 * The typed client's types (client/schema.d.ts) are what openapi-typescript generates from
 * openapi.yaml today: a spec change without `npm run generate:client` fails here, before a
 * client compiles against stale paths or bodies.
 */
import { readFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';

const spec = new URL('../../openapi.yaml', import.meta.url);
const committed = new URL('../../client/schema.d.ts', import.meta.url);

/** What `npm run generate:client` writes (the CLI's output: header + printed AST, default options). */
async function generate(): Promise<string> {
  return `${COMMENT_HEADER}${astToString(await openapiTS(spec, { silent: true }))}`;
}

describe('generated client types', () => {
  it('client/schema.d.ts is up to date with openapi.yaml (else: npm run generate:client)', async () => {
    const generated = await generate();
    const current = readFileSync(committed, 'utf8');
    // Not toBe: a diff of a 1,000-line file is noise; the message says what to do.
    expect(current === generated, 'client/schema.d.ts is stale: run `npm run generate:client` and commit it').toBe(true);
  });
});
