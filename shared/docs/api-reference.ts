/**
 * The API reference page: `GET /docs` renders openapi.yaml with Swagger UI (swagger-ui-dist from
 * npm, served from here: no CDN at run time), and `GET /openapi.yaml` serves the spec. Public,
 * without the authorizer: locally always (`npm start`), on AWS only with the context
 * `publishDocs=true`. The page, its script, styles and initializer are separate routes, so the
 * page runs under a CSP that allows only same-origin scripts.
 */
import { gzipSync } from 'node:zlib';

/** The files the routes serve: the spec and swagger-ui-dist's bundle and styles. */
export const DOCS_ASSETS = {
  spec: 'openapi.yaml',
  script: 'swagger-ui-bundle.js',
  styles: 'swagger-ui.css',
} as const;
export type DocsAsset = keyof typeof DOCS_ASSETS;

export const DOCS_PATHS = {
  page: '/docs',
  script: '/docs/swagger-ui-bundle.js',
  styles: '/docs/swagger-ui.css',
  initializer: '/docs/swagger-initializer.js',
  spec: '/openapi.yaml',
} as const;

/** Swagger UI's inline styles need 'unsafe-inline' for styles; scripts are same-origin only. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Organization invitations API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DOCS_PATHS.styles}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATHS.script}"></script>
<script src="${DOCS_PATHS.initializer}"></script>
</body>
</html>
`;

// "Try it out" works against the server the page is served from (connect-src 'self': a token
// pasted into Authorize goes nowhere else).
const INITIALIZER = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(DOCS_PATHS.spec)}, dom_id: '#swagger-ui', deepLinking: true });\n`;

export interface DocsFile {
  readonly contentType: string;
  readonly body: Buffer;
  /** The body gzipped, once, for clients that accept it (API Gateway does not compress). */
  readonly gzipped: Buffer;
}

/** Every docs route's file, keyed by path; `read` returns an asset's content. */
export function docsFiles(read: (asset: DocsAsset) => Buffer): ReadonlyMap<string, DocsFile> {
  const file = (contentType: string, body: Buffer): DocsFile => ({ contentType, body, gzipped: gzipSync(body, { level: 9 }) });
  return new Map([
    [DOCS_PATHS.page, file('text/html; charset=utf-8', Buffer.from(PAGE))],
    [DOCS_PATHS.script, file('text/javascript; charset=utf-8', read('script'))],
    [DOCS_PATHS.styles, file('text/css; charset=utf-8', read('styles'))],
    [DOCS_PATHS.initializer, file('text/javascript; charset=utf-8', Buffer.from(INITIALIZER))],
    [DOCS_PATHS.spec, file('application/yaml; charset=utf-8', read('spec'))],
  ]);
}

export interface DocsResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

/** The answer to GET `path` (payload 2.0 response), gzipped when the client accepts it. */
export function docsResponse(files: ReadonlyMap<string, DocsFile>, path: string, acceptEncoding = ''): DocsResponse {
  const file = files.get(path);
  if (!file) {
    return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 404, message: 'No such route.' }), isBase64Encoded: false };
  }
  const gzip = /\bgzip\b/i.test(acceptEncoding);
  return {
    statusCode: 200,
    headers: {
      'content-type': file.contentType,
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(path === DOCS_PATHS.page && { 'content-security-policy': PAGE_CSP }),
      ...(gzip && { 'content-encoding': 'gzip' }),
    },
    body: (gzip ? file.gzipped : file.body).toString('base64'),
    isBase64Encoded: true,
  };
}
