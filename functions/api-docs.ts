/**
 * GET /docs (and its script, styles, initializer) and GET /openapi.yaml, without the authorizer:
 * the API reference page (shared/docs/api-reference.ts). On Lambda the assets are copied next to
 * the bundle at build time (infra/http-api.ts); elsewhere (the local stack) they are read from the
 * repository and node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DOCS_ASSETS, docsFiles, docsResponse, type DocsAsset } from '../shared/docs/api-reference.ts';

function locate(asset: DocsAsset): string {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) return join(taskRoot, DOCS_ASSETS[asset]);
  if (asset === 'spec') return fileURLToPath(new URL('../openapi.yaml', import.meta.url));
  return createRequire(import.meta.url).resolve(`swagger-ui-dist/${DOCS_ASSETS[asset]}`);
}

// Read and gzipped once per container.
const files = docsFiles((asset) => readFileSync(locate(asset)));

export const handler = async (event: APIGatewayProxyEventV2) => docsResponse(files, event.rawPath, event.headers?.['accept-encoding']);
