/**
 * Checks HTTP responses against the service's own OpenAPI document (openapi.yaml at the repo
 * root). Tests call `assertResponseMatchesSpec` on every response they receive, so a handler
 * cannot drift from the documented contract (status codes, body shapes, required headers).
 *
 * OpenAPI 3.0 schemas are not JSON Schema, so before they go to Ajv they are converted:
 * `nullable` becomes a `null` type, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers,
 * siblings of `$ref` are dropped (OpenAPI 3.0 ignores them), annotation-only keywords
 * (`example`, `xml`, `externalDocs`, `discriminator`, `x-*`) are removed, and
 * `#/components/...` references are made absolute against a copy of the document registered in
 * Ajv, so they resolve from any schema.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** Absolute path of the service's OpenAPI document (the repo root is two levels up). */
export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

export type JsonObject = { readonly [key: string]: unknown };
/** A parsed OpenAPI document. Treat it as read-only; the cached one is deeply frozen. */
export type OpenApiDocument = JsonObject;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface ResponseUnderTest {
  /** HTTP method, any case. */
  readonly method: string;
  /** Concrete request path, e.g. `/v1/organizations/acme/invitations?limit=2`; the query is ignored. */
  readonly path: string;
  readonly status: number | string;
  /** Parsed JSON body, or the raw body text (a string is parsed as JSON), or undefined for none. */
  readonly body?: unknown;
  /**
   * Optional response headers. When given, headers the response declares `required` must be
   * present, declared headers must match their schema, and a JSON response must not carry a
   * non-JSON Content-Type. When omitted, headers are not checked.
   */
  readonly headers?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
}

export interface DocumentedOperation {
  /** Upper case, e.g. `GET`. */
  readonly method: string;
  /** Path template as written in the document, e.g. `/v1/organizations/{name}`. */
  readonly pathTemplate: string;
  readonly operationId: string | undefined;
  /** Response keys as written in the document: `'200'`, `'4XX'`, `'default'`... */
  readonly statuses: string[];
}

export interface SpecChecker {
  assertResponseMatchesSpec(response: ResponseUnderTest): void;
  documentedOperations(): DocumentedOperation[];
  /** Ajv errors (formatted, empty when valid) of `value` against `#/components/schemas/<name>`. */
  componentSchemaErrors(name: string, value: unknown): string[];
}

// ---------------------------------------------------------------------------------------------
// Loading

let cachedDocument: OpenApiDocument | undefined;
let defaultChecker: SpecChecker | undefined;

/** The parsed openapi.yaml, loaded once and deeply frozen. */
export function loadOpenApiDocument(): OpenApiDocument {
  cachedDocument ??= deepFreeze(readYamlFile(OPENAPI_PATH));
  return cachedDocument;
}

/** Parses a YAML file into a plain object (throws if the top level is not a mapping). */
export function readYamlFile(path: string): JsonObject {
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (!isObject(parsed)) throw new Error(`${path} does not contain a YAML mapping`);
  return parsed;
}

/**
 * Throws unless the response (method, concrete path, status, body) is documented in
 * openapi.yaml: the path and method exist, the status (or `NXX`/`default`) is documented, and
 * the body validates against the response's `application/json` schema.
 */
export function assertResponseMatchesSpec(response: ResponseUnderTest): void {
  getDefaultChecker().assertResponseMatchesSpec(response);
}

/** Every operation of openapi.yaml with its documented response statuses. */
export function documentedOperations(): DocumentedOperation[] {
  return getDefaultChecker().documentedOperations();
}

/** Validates a value against a component schema of openapi.yaml; returns readable errors, [] when valid. */
export function componentSchemaErrors(name: string, value: unknown): string[] {
  return getDefaultChecker().componentSchemaErrors(name, value);
}

function getDefaultChecker(): SpecChecker {
  defaultChecker ??= createSpecChecker(loadOpenApiDocument(), 'openapi.yaml');
  return defaultChecker;
}

// ---------------------------------------------------------------------------------------------
// Checker

const SPEC_ID = 'https://contract.test/openapi.json';

/** Builds a checker for any OpenAPI 3.0 document (used by the default exports and by tests). */
export function createSpecChecker(doc: OpenApiDocument, sourceName = 'the OpenAPI document'): SpecChecker {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, logger: false });
  addFormats(ajv);
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const convertedSchemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) convertedSchemas[name] = toJsonSchema(schema);
  // The whole component registry under one id: `#/components/schemas/X` (made absolute by
  // toJsonSchema) resolves by JSON pointer inside it.
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: convertedSchemas } });

  const paths = isObject(doc.paths) ? doc.paths : {};
  const templates = Object.keys(paths).map((template) => ({ template, segments: template.split('/') }));
  const validators = new Map<string, ValidateFunction>();

  function compile(cacheKey: string, schema: unknown): ValidateFunction {
    let validate = validators.get(cacheKey);
    if (!validate) {
      const converted = toJsonSchema(schema);
      validate = ajv.compile(typeof converted === 'boolean' ? converted : (converted as JsonObject));
      validators.set(cacheKey, validate);
    }
    return validate;
  }

  function findTemplate(concretePath: string): string | undefined {
    const segments = concretePath.split('/');
    let best: { template: string; segments: string[] } | undefined;
    for (const candidate of templates) {
      if (candidate.segments.length !== segments.length) continue;
      const matches = candidate.segments.every((part, i) => {
        const segment = segments[i]!;
        if (isVariable(part)) return segment !== '';
        return part === segment || part === safeDecode(segment);
      });
      if (!matches) continue;
      if (!best || moreSpecific(candidate.segments, best.segments)) best = candidate;
    }
    return best?.template;
  }

  function assertResponseMatchesSpec(response: ResponseUnderTest): void {
    const method = response.method.toLowerCase();
    const status = String(response.status);
    const concretePath = response.path.replace(/[?#].*$/s, '');
    const fail = (problem: string, details: string[] = []): never => {
      throw new Error(
        [
          `Response does not match ${sourceName}: ${method.toUpperCase()} ${response.path} -> ${status}`,
          `  ${problem}`,
          ...details.map((line) => `  ${line}`),
          `  body: ${excerpt(response.body)}`,
        ].join('\n'),
      );
    };

    const template = findTemplate(concretePath);
    if (!template) return fail(`no path template in ${sourceName} matches ${concretePath}`);
    const pathItem = resolve(doc, paths[template]);
    const operation = isObject(pathItem) ? resolve(doc, pathItem[method]) : undefined;
    if (!isObject(operation)) {
      const methods = isObject(pathItem) ? HTTP_METHODS.filter((m) => m in pathItem).map((m) => m.toUpperCase()) : [];
      return fail(`${method.toUpperCase()} is not documented for ${template} (documented: ${methods.join(', ') || 'none'})`);
    }
    const operationLabel = `${template} (operationId ${String(operation.operationId ?? '?')})`;
    const responses = isObject(operation.responses) ? operation.responses : {};
    const statusKey = [status, `${status.charAt(0)}XX`, `${status.charAt(0)}xx`, 'default'].find((key) => key in responses);
    if (statusKey === undefined) {
      return fail(`status ${status} is not documented for ${method.toUpperCase()} ${operationLabel}`, [
        `documented: ${Object.keys(responses).join(', ') || 'none'}`,
      ]);
    }
    const responseObject = resolve(doc, responses[statusKey]);
    if (!isObject(responseObject)) return fail(`response ${statusKey} of ${operationLabel} is not an object`);

    const content = isObject(responseObject.content) ? responseObject.content : undefined;
    const jsonMediaType = content ? findJsonMediaType(content) : undefined;
    const mediaObject = content && jsonMediaType ? resolve(doc, content[jsonMediaType]) : undefined;
    const schema = isObject(mediaObject) ? mediaObject.schema : undefined;

    if (response.headers) checkHeaders(response.headers, responseObject, jsonMediaType !== undefined, operationLabel, statusKey, fail);

    if (schema === undefined) {
      // Documented without a JSON schema: only require that a non-empty text body is JSON.
      if (typeof response.body === 'string' && response.body.trim() !== '') {
        try {
          JSON.parse(response.body);
        } catch {
          fail(`body of ${statusKey} response of ${operationLabel} is not valid JSON`);
        }
      }
      return;
    }

    let body = response.body;
    if (body === undefined || (typeof body === 'string' && body.trim() === '')) {
      return fail(`${operationLabel} documents a JSON body for ${statusKey}, but the response has none`);
    }
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        return fail(`body is not valid JSON, but ${operationLabel} documents a JSON body for ${statusKey}`);
      }
    }
    const validate = compile(`${template} ${method} ${statusKey}`, schema);
    if (!validate(body)) {
      return fail(`body does not match the ${statusKey} response schema of ${method.toUpperCase()} ${operationLabel}`, [
        'errors:',
        ...formatErrors(validate.errors).map((line) => `  ${line}`),
      ]);
    }
  }

  function checkHeaders(
    actual: NonNullable<ResponseUnderTest['headers']>,
    responseObject: JsonObject,
    documentsJson: boolean,
    operationLabel: string,
    statusKey: string,
    fail: (problem: string, details?: string[]) => never,
  ): void {
    const lowerCased = new Map<string, string>();
    for (const [name, value] of Object.entries(actual)) {
      if (value === undefined) continue;
      lowerCased.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    }
    const contentType = lowerCased.get('content-type');
    if (documentsJson && contentType !== undefined && !/json/i.test(contentType)) {
      fail(`Content-Type is "${contentType}", but ${operationLabel} documents a JSON body for ${statusKey}`);
    }
    const declared = isObject(responseObject.headers) ? responseObject.headers : {};
    for (const [name, headerRef] of Object.entries(declared)) {
      const header = resolve(doc, headerRef);
      if (!isObject(header) || name.toLowerCase() === 'content-type') continue;
      const value = lowerCased.get(name.toLowerCase());
      if (value === undefined) {
        if (header.required === true) fail(`required header ${name} is missing (${statusKey} of ${operationLabel})`);
        continue;
      }
      if (header.schema === undefined) continue;
      const validate = compile(`header ${name} ${JSON.stringify(header.schema)}`, header.schema);
      const coerced = coerceHeader(value, header.schema);
      if (!validate(coerced)) {
        fail(`header ${name}: ${JSON.stringify(value)} does not match its schema (${statusKey} of ${operationLabel})`, [
          ...formatErrors(validate.errors),
        ]);
      }
    }
  }

  function documentedOperations(): DocumentedOperation[] {
    const operations: DocumentedOperation[] = [];
    for (const [pathTemplate, pathItemRef] of Object.entries(paths)) {
      const pathItem = resolve(doc, pathItemRef);
      if (!isObject(pathItem)) continue;
      for (const method of HTTP_METHODS) {
        const operation = resolve(doc, pathItem[method]);
        if (!isObject(operation)) continue;
        operations.push({
          method: method.toUpperCase(),
          pathTemplate,
          operationId: typeof operation.operationId === 'string' ? operation.operationId : undefined,
          statuses: isObject(operation.responses) ? Object.keys(operation.responses) : [],
        });
      }
    }
    return operations;
  }

  function componentSchemaErrors(name: string, value: unknown): string[] {
    if (!(name in schemas)) throw new Error(`${sourceName} has no component schema ${name}`);
    const validate = compile(`component ${name}`, { $ref: `#/components/schemas/${name}` });
    return validate(value) ? [] : formatErrors(validate.errors);
  }

  return { assertResponseMatchesSpec, documentedOperations, componentSchemaErrors };
}

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.0 schema -> JSON Schema (draft-07, what Ajv's default export speaks)

const DROPPED_KEYWORDS = new Set(['example', 'xml', 'externalDocs', 'discriminator']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions']);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_KEYWORDS = new Set(['not', 'additionalProperties', 'items']);

/** Converts one OpenAPI 3.0 Schema Object (schema-aware: property names are never touched). */
export function toJsonSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    // OpenAPI 3.0: siblings of $ref are ignored.
    return { $ref: schema.$ref.startsWith('#') ? `${SPEC_ID}${schema.$ref}` : schema.$ref };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || DROPPED_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]));
    } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map((sub: unknown) => toJsonSchema(sub));
    } else if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = Array.isArray(value) ? value.map((sub: unknown) => toJsonSchema(sub)) : toJsonSchema(value);
    } else {
      out[key] = value;
    }
  }
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else {
      delete out[exclusive];
    }
  }
  if ('nullable' in out) {
    const nullable = out.nullable === true;
    delete out.nullable;
    if (nullable) {
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      else if (out.type === undefined) return { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves a local JSON pointer reference (`#/components/...`) in the document. */
export function resolvePointer(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`only local references are supported: ${ref}`);
  let current: unknown = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current) && Object.prototype.hasOwnProperty.call(current, token)) current = current[token];
    else return undefined;
  }
  return current;
}

/** Follows `$ref` (possibly chained) on a non-schema object such as a response or a header. */
export function resolve(doc: OpenApiDocument, value: unknown): unknown {
  let current = value;
  for (let depth = 0; isObject(current) && typeof current.$ref === 'string'; depth++) {
    if (depth > 20) throw new Error(`reference cycle at ${current.$ref}`);
    current = resolvePointer(doc, current.$ref);
  }
  return current;
}

function addFormats(ajv: Ajv): void {
  // ajv-formats is CommonJS: depending on the loader the plugin is the module or its default.
  const module = addFormatsModule as unknown as { default?: (a: Ajv) => unknown } & ((a: Ajv) => unknown);
  const plugin = typeof module.default === 'function' ? module.default : module;
  plugin(ajv);
}

function isVariable(segment: string): boolean {
  return /^\{[^{}]+\}$/.test(segment);
}

/** At the first position where they differ in kind, a literal segment beats a variable. */
function moreSpecific(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const aVariable = isVariable(a[i]!);
    const bVariable = isVariable(b[i]!);
    if (aVariable !== bVariable) return !aVariable;
  }
  return false;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function findJsonMediaType(content: JsonObject): string | undefined {
  const keys = Object.keys(content);
  return (
    keys.find((key) => key === 'application/json') ??
    keys.find((key) => /^application\/([\w.-]+\+)?json(\s*;.*)?$/i.test(key))
  );
}

function coerceHeader(value: string, schema: unknown): unknown {
  const type = isObject(schema) ? schema.type : undefined;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath === '' ? '(root)' : error.instancePath;
    const params = Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : '';
    return `${where} ${error.message ?? error.keyword}${params} [schema ${error.schemaPath}]`;
  });
}

function excerpt(body: unknown, max = 800): string {
  if (body === undefined) return '(none)';
  let text: string;
  try {
    text = typeof body === 'string' ? body : JSON.stringify(body);
  } catch {
    text = String(body);
  }
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
