/**
 * Contract test: openapi.yaml (the service's own spec) stays compatible with the public Jaqpot
 * spec excerpt vendored in jaqpot-reference.yaml, and the response checker used by the other
 * tests (test/support/openapi.ts) really rejects what the spec forbids.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  HTTP_METHODS,
  assertResponseMatchesSpec,
  componentSchemaErrors,
  createSpecChecker,
  documentedOperations,
  isObject,
  loadOpenApiDocument,
  readYamlFile,
  resolve,
  resolvePointer,
  type JsonObject,
  type OpenApiDocument,
} from '../support/openapi.ts';

const ours = loadOpenApiDocument();
const reference = readYamlFile(fileURLToPath(new URL('./jaqpot-reference.yaml', import.meta.url)));

interface Operation {
  readonly path: string;
  readonly method: string;
  readonly operation: JsonObject;
  readonly pathItem: JsonObject;
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  const result: Operation[] = [];
  for (const [path, pathItemRef] of Object.entries(obj(doc.paths))) {
    const pathItem = obj(resolve(doc, pathItemRef));
    for (const method of HTTP_METHODS) {
      const operation = resolve(doc, pathItem[method]);
      if (isObject(operation)) result.push({ path, method, operation, pathItem });
    }
  }
  return result;
}

function obj(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

/** Parameters of an operation (path-item level ones included, operation level wins), resolved. */
function parametersOf(doc: OpenApiDocument, op: Operation): JsonObject[] {
  const byKey = new Map<string, JsonObject>();
  for (const list of [op.pathItem.parameters, op.operation.parameters]) {
    for (const ref of Array.isArray(list) ? list : []) {
      const parameter = obj(resolve(doc, ref));
      byKey.set(`${String(parameter.in)}:${String(parameter.name)}`, parameter);
    }
  }
  return [...byKey.values()];
}

function refName(ref: string): string {
  return ref.replace(/^#\/components\/schemas\//, '');
}

/**
 * The parts of a schema that make it wire-compatible: the component it references, its type,
 * format and enum (sorted), and the same for array items. Object properties are compared
 * component by component, so they are not expanded here.
 */
function shape(doc: OpenApiDocument, schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  let ref: string | undefined;
  let resolved = schema;
  if (typeof schema.$ref === 'string') {
    ref = refName(schema.$ref);
    resolved = obj(resolvePointer(doc, schema.$ref));
  }
  return {
    ref,
    type: resolved.type,
    format: resolved.format,
    enum: Array.isArray(resolved.enum) ? [...resolved.enum].map(String).sort() : undefined,
    items: resolved.items === undefined ? undefined : shape(doc, resolved.items),
  };
}

function collectRefs(value: unknown, at: string, out: Array<{ at: string; ref: string }>): void {
  if (Array.isArray(value)) value.forEach((item, i) => collectRefs(item, `${at}/${i}`, out));
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') out.push({ at, ref: child });
      else collectRefs(child, `${at}/${key}`, out);
    }
  }
}

function jsonSchemaOf(doc: OpenApiDocument, holder: unknown): unknown {
  const content = obj(obj(resolve(doc, holder)).content);
  return obj(content['application/json']).schema;
}

// -------------------------------------------------------------------------------------------

describe('openapi.yaml is a well-formed OpenAPI 3.0 document', () => {
  it('declares OpenAPI 3.0.x with info and paths', () => {
    expect(ours.openapi).toMatch(/^3\.0\.\d+$/);
    const info = obj(ours.info);
    expect(typeof info.title).toBe('string');
    expect(typeof info.version).toBe('string');
    expect(String(info.description ?? '')).not.toHaveLength(0);
    expect(Object.keys(obj(ours.paths)).length).toBeGreaterThan(0);
  });

  it('resolves every $ref', () => {
    const refs: Array<{ at: string; ref: string }> = [];
    collectRefs(ours, '', refs);
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(({ ref }) => !ref.startsWith('#/') || resolvePointer(ours, ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('gives every operation a unique operationId and described responses', () => {
    const operations = operationsOf(ours);
    expect(operations.length).toBeGreaterThan(0);
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const [i, { path, method, operation }] of operations.entries()) {
      expect(typeof ids[i], `${method} ${path} operationId`).toBe('string');
      const responses = obj(operation.responses);
      expect(Object.keys(responses).length, `${method} ${path} responses`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        expect(status, `${method} ${path}`).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        expect(typeof obj(resolve(ours, response)).description, `${method} ${path} ${status} description`).toBe('string');
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares exactly the path parameters of each template, all required', () => {
    for (const op of operationsOf(ours)) {
      const variables = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const pathParameters = parametersOf(ours, op).filter((p) => p.in === 'path');
      expect(pathParameters.map((p) => p.name).sort(), `${op.method} ${op.path}`).toEqual(variables);
      for (const parameter of pathParameters) expect(parameter.required, `${op.path} {${String(parameter.name)}}`).toBe(true);
    }
  });

  it('secures every operation with the bearerAuth JWT scheme', () => {
    const scheme = obj(obj(obj(ours.components).securitySchemes).bearerAuth);
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(ours.security).toEqual([{ bearerAuth: [] }]);
    for (const { path, method, operation } of operationsOf(ours)) {
      // An operation-level `security` would override the global one; none may drop it.
      if (operation.security !== undefined) expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('compiles every component schema with Ajv', () => {
    for (const name of Object.keys(obj(obj(ours.components).schemas))) {
      expect(() => componentSchemaErrors(name, {}), name).not.toThrow();
    }
  });
});

describe('openapi.yaml keeps every operation of the Jaqpot reference', () => {
  const ourOperations = new Map(operationsOf(ours).map((op) => [`${op.method} ${op.path}`, op]));

  for (const [path, pathItem] of Object.entries(obj(reference.paths))) {
    it(`has ${path} with the reference's methods`, () => {
      expect(Object.keys(obj(ours.paths))).toContain(path);
      const referenceMethods = HTTP_METHODS.filter((m) => m in obj(pathItem));
      const ourMethods = HTTP_METHODS.filter((m) => m in obj(obj(ours.paths)[path]));
      expect(ourMethods).toEqual(expect.arrayContaining(referenceMethods));
    });
  }

  for (const refOp of operationsOf(reference)) {
    const label = `${refOp.method.toUpperCase()} ${refOp.path} (${String(refOp.operation.operationId)})`;

    describe(label, () => {
      const ourOp = () => {
        const op = ourOperations.get(`${refOp.method} ${refOp.path}`);
        if (!op) throw new Error(`openapi.yaml lacks ${label}`);
        return op;
      };

      it('keeps the operationId', () => {
        expect(ourOp().operation.operationId).toBe(refOp.operation.operationId);
      });

      it('keeps the path parameters (name, in, schema type and format)', () => {
        const describeParameters = (doc: OpenApiDocument, op: Operation) =>
          parametersOf(doc, op)
            .filter((p) => p.in === 'path')
            .map((p) => ({ name: p.name, in: p.in, schema: shape(doc, p.schema) }))
            .sort((a, b) => String(a.name).localeCompare(String(b.name)));
        expect(describeParameters(ours, ourOp())).toEqual(describeParameters(reference, refOp));
      });

      it("documents every status of the reference, with the reference's body schema", () => {
        const ourResponses = obj(ourOp().operation.responses);
        for (const [status, refResponse] of Object.entries(obj(refOp.operation.responses))) {
          expect(Object.keys(ourResponses), `${label} status ${status}`).toContain(status);
          const refSchema = jsonSchemaOf(reference, refResponse);
          if (refSchema !== undefined) {
            expect(shape(ours, jsonSchemaOf(ours, ourResponses[status])), `${label} ${status} body`).toEqual(
              shape(reference, refSchema),
            );
          }
        }
      });

      it('accepts the request body the reference describes', () => {
        const refBody = obj(resolve(reference, refOp.operation.requestBody));
        const ourBody = obj(resolve(ours, ourOp().operation.requestBody));
        if (refOp.operation.requestBody === undefined) return;
        expect(ourBody.required ?? false).toBe(refBody.required ?? false);
        const refSchema = obj(jsonSchemaOf(reference, refBody));
        const ourSchema = obj(jsonSchemaOf(ours, ourBody));
        if (typeof refSchema.$ref === 'string') {
          expect(ourSchema.$ref).toBe(refSchema.$ref);
          return;
        }
        expect(ourSchema.type).toBe(refSchema.type);
        const ourProperties = obj(ourSchema.properties);
        for (const [name, property] of Object.entries(obj(refSchema.properties))) {
          expect(Object.keys(ourProperties), `${label} body property ${name}`).toContain(name);
          expect(shape(ours, ourProperties[name]), `${label} body property ${name}`).toEqual(shape(reference, property));
        }
        const refRequired = Array.isArray(refSchema.required) ? refSchema.required : [];
        const ourRequired = Array.isArray(ourSchema.required) ? ourSchema.required : [];
        // Fields the reference requires stay required.
        expect(ourRequired).toEqual(expect.arrayContaining(refRequired));
      });
    });
  }

  it('lists every reference operation in documentedOperations()', () => {
    const documented = documentedOperations().map((op) => `${op.method} ${op.pathTemplate} ${String(op.operationId)}`);
    for (const { method, path, operation } of operationsOf(reference)) {
      expect(documented).toContain(`${method.toUpperCase()} ${path} ${String(operation.operationId)}`);
    }
  });
});

describe('openapi.yaml keeps every schema of the Jaqpot reference', () => {
  const ourSchemas = obj(obj(ours.components).schemas);

  for (const [name, refSchemaValue] of Object.entries(obj(obj(reference.components).schemas))) {
    const refSchema = obj(refSchemaValue);

    it(`${name}: same type, format and enum`, () => {
      expect(Object.keys(ourSchemas)).toContain(name);
      expect(shape(ours, ourSchemas[name])).toEqual(shape(reference, refSchema));
    });

    it(`${name}: every property, same type/format/enum`, () => {
      const ourProperties = obj(obj(ourSchemas[name]).properties);
      for (const [property, refProperty] of Object.entries(obj(refSchema.properties))) {
        expect(Object.keys(ourProperties), `${name}.${property}`).toContain(property);
        expect(shape(ours, ourProperties[property]), `${name}.${property}`).toEqual(shape(reference, refProperty));
      }
    });

    it(`${name}: every required field of the reference is still required`, () => {
      const ourRequired = obj(ourSchemas[name]).required;
      const refRequired = Array.isArray(refSchema.required) ? refSchema.required : [];
      expect(Array.isArray(ourRequired) ? ourRequired : []).toEqual(expect.arrayContaining(refRequired));
    });
  }
});

// -------------------------------------------------------------------------------------------

const ORG = '/v1/organizations/acme';
const UUID = '3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60';
const goodInvitation = {
  id: UUID,
  userEmail: 'alice@example.com',
  status: 'PENDING',
  expirationDate: '2030-01-01T00:00:00.000Z',
  createdAt: '2029-12-25T00:00:00.000Z',
  invitedBy: 'user-1',
  sendCount: 1,
  lastSentAt: '2029-12-25T00:00:00.000Z',
};
const rateLimitHeaders = { 'x-ratelimit-limit': '20', 'x-ratelimit-remaining': '19', 'x-ratelimit-reset': '1893456000' };

describe('assertResponseMatchesSpec', () => {
  const getInvitation = (body: unknown) => () =>
    assertResponseMatchesSpec({ method: 'GET', path: `${ORG}/invitations/${UUID}`, status: 200, body });

  it('accepts a valid invitation', () => {
    expect(getInvitation(goodInvitation)).not.toThrow();
    expect(getInvitation({ ...goodInvitation, status: 'ACCEPTED', respondedAt: '2030-01-01T00:00:00Z', userId: 'u-2' })).not.toThrow();
  });

  it('rejects an invitation with status EXPIRED, naming the problem', () => {
    expect(getInvitation({ ...goodInvitation, status: 'EXPIRED' })).toThrow(/\/status must be equal to one of the allowed values/);
    expect(getInvitation({ ...goodInvitation, status: 'EXPIRED' })).toThrow(/GET \/v1\/organizations\/acme\/invitations\/.* -> 200/);
  });

  it('rejects an invitation without userEmail, or with malformed formats', () => {
    const { userEmail: _omitted, ...withoutEmail } = goodInvitation;
    expect(getInvitation(withoutEmail)).toThrow(/userEmail/);
    expect(getInvitation({ ...goodInvitation, userEmail: 'not-an-email' })).toThrow(/format/);
    expect(getInvitation({ ...goodInvitation, id: 'not-a-uuid' })).toThrow(/format/);
    expect(getInvitation({ ...goodInvitation, expirationDate: 'tomorrow' })).toThrow(/format/);
    expect(getInvitation({ ...goodInvitation, sendCount: 1.5 })).toThrow(/sendCount/);
  });

  it('rejects a missing body and non-JSON text where a JSON body is documented', () => {
    expect(getInvitation(undefined)).toThrow(/has none/);
    expect(getInvitation('<html>')).toThrow(/not valid JSON/);
    expect(getInvitation(JSON.stringify(goodInvitation))).not.toThrow();
  });

  it('validates arrays (list invitations) and ignores the query string', () => {
    const list = (body: unknown) => () =>
      assertResponseMatchesSpec({ method: 'get', path: `${ORG}/invitations?status=PENDING&limit=2`, status: '200', body });
    expect(list([goodInvitation, { ...goodInvitation, id: '4f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60' }])).not.toThrow();
    expect(list([])).not.toThrow();
    expect(list([goodInvitation, { ...goodInvitation, status: 'EXPIRED' }])).toThrow(/\/1\/status/);
    expect(list(goodInvitation)).toThrow(/must be array/);
  });

  it('validates CreateInvitationsResponse and the documented headers when given', () => {
    const created = (body: unknown, headers?: Record<string, string>) => () =>
      assertResponseMatchesSpec({ method: 'POST', path: `${ORG}/invitations`, status: 201, body, headers });
    const body = { invitations: [goodInvitation], skipped: [{ email: 'bob@example.com', reason: 'ALREADY_MEMBER' }] };
    expect(created(body, rateLimitHeaders)).not.toThrow();
    expect(created(body)).not.toThrow();
    expect(created({ invitations: [goodInvitation] })).toThrow(/skipped/);
    expect(created({ ...body, skipped: [{ email: 'bob@example.com', reason: 'BLOCKED' }] })).toThrow(/reason/);
    expect(created(body, { ...rateLimitHeaders, 'x-ratelimit-remaining': '-1' })).toThrow(/X-RateLimit-Remaining/);
    expect(created(body, { ...rateLimitHeaders, 'x-ratelimit-reset': 'soon' })).toThrow(/X-RateLimit-Reset/);
    expect(created(body, { ...rateLimitHeaders, 'content-type': 'text/html' })).toThrow(/Content-Type/);

    const limited = (headers: Record<string, string>) => () =>
      assertResponseMatchesSpec({ method: 'POST', path: `${ORG}/invitations`, status: 429, body: { status: 429, message: 'Slow down' }, headers });
    expect(limited({ ...rateLimitHeaders, 'Retry-After': '30' })).not.toThrow();
    expect(limited(rateLimitHeaders)).toThrow(/Retry-After/);
  });

  it('validates organizations, including the name pattern and integer id', () => {
    const organization = {
      id: 7,
      name: 'my-awesome_org',
      contactEmail: 'contact@example.com',
      visibility: 'PRIVATE',
      creator: { id: 'user-1', username: 'alice', email: 'alice@example.com' },
      organizationMembers: [{ userId: 'user-1', username: 'alice', email: 'alice@example.com', associationType: 'ADMIN' }],
      canEdit: true,
      isMember: true,
      created_at: '2030-01-01T00:00:00Z',
      updated_at: '2030-01-01T00:00:00Z',
    };
    const get = (body: unknown) => () => assertResponseMatchesSpec({ method: 'GET', path: ORG, status: 200, body });
    expect(get(organization)).not.toThrow();
    expect(get({ ...organization, name: 'bad name!' })).toThrow(/pattern/);
    expect(get({ ...organization, id: '7' })).toThrow(/\/id/);
    expect(get({ ...organization, visibility: 'SECRET' })).toThrow(/visibility/);
    expect(get({ ...organization, organizationMembers: [{ userId: 'user-1', associationType: 'OWNER' }] })).toThrow(/associationType/);
    expect(() =>
      assertResponseMatchesSpec({ method: 'POST', path: '/v1/organizations', status: 201, body: organization, headers: { Location: `${ORG}` } }),
    ).not.toThrow();
    expect(() =>
      assertResponseMatchesSpec({ method: 'POST', path: '/v1/organizations', status: 201, body: organization, headers: {} }),
    ).toThrow(/Location/);
  });

  it('rejects unknown paths, undocumented methods and undocumented statuses', () => {
    expect(() => assertResponseMatchesSpec({ method: 'GET', path: '/v1/nope', status: 200, body: {} })).toThrow(/no path template/);
    expect(() => assertResponseMatchesSpec({ method: 'DELETE', path: ORG, status: 200, body: {} })).toThrow(/DELETE is not documented/);
    expect(() =>
      assertResponseMatchesSpec({ method: 'GET', path: `${ORG}/invitations/${UUID}`, status: 418, body: { message: 'teapot' } }),
    ).toThrow(/status 418 is not documented/);
    expect(() =>
      assertResponseMatchesSpec({ method: 'GET', path: `${ORG}/invitations/${UUID}`, status: 500, body: { message: 'x' } }),
    ).toThrow(/status 500 is not documented/);
  });

  it('prefers literal segments over path variables', () => {
    expect(() =>
      assertResponseMatchesSpec({ method: 'POST', path: `/v1/organizations/42/invitations/${UUID}/resend`, status: 410, body: { status: 410, message: 'Gone' } }),
    ).not.toThrow();
    expect(() =>
      assertResponseMatchesSpec({ method: 'PATCH', path: '/v1/organizations/42/partial', status: 409, body: { status: 409, message: 'taken' } }),
    ).not.toThrow();
    // /v1/user/organizations is its own operation, not /v1/organizations/{name} or similar.
    expect(() => assertResponseMatchesSpec({ method: 'GET', path: '/v1/user/organizations', status: 200, body: [] })).not.toThrow();
  });

  it('validates error bodies; the gateway 401 (message only) is valid for every operation', () => {
    for (const { method, pathTemplate, statuses } of documentedOperations()) {
      expect(statuses, `${method} ${pathTemplate}`).toContain('401');
      const path = pathTemplate.replace(/\{[^}]+\}/g, '1');
      expect(() => assertResponseMatchesSpec({ method, path, status: 401, body: { message: 'Unauthorized' } })).not.toThrow();
      expect(() => assertResponseMatchesSpec({ method, path, status: 401, body: { status: 401 } })).toThrow(/message/);
    }
    const badRequest = (body: unknown) => () =>
      assertResponseMatchesSpec({ method: 'PUT', path: `${ORG}/invitations/${UUID}`, status: 400, body });
    expect(badRequest({ status: 400, message: 'Email not verified', code: 1001 })).not.toThrow();
    expect(badRequest({ status: '400', message: 'x' })).toThrow(/\/status must be integer/);
  });

  it('checks OpenAPI features the service spec does not use (no content, NXX, default, nullable)', () => {
    const checker = createSpecChecker(
      {
        openapi: '3.0.3',
        paths: {
          '/things/{id}': {
            get: {
              responses: {
                '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
                '204': { description: 'no content' },
                '4XX': { $ref: '#/components/responses/Problem' },
                default: { description: 'anything' },
              },
            },
          },
          '/things/special': { get: { responses: { '200': { description: 'ok' } } } },
        },
        components: {
          responses: {
            Problem: { description: 'problem', content: { 'application/json': { schema: { type: 'object', required: ['message'] } } } },
          },
          schemas: {
            Thing: {
              type: 'object',
              required: ['name'],
              'x-internal': true,
              example: { name: 'x' },
              properties: {
                name: { type: 'string', nullable: true, example: 'x' },
                example: { type: 'integer' },
                kind: { type: 'string', enum: ['A', 'B'], nullable: true },
              },
            },
          },
        },
      },
      'mini.yaml',
    );
    const check = (path: string, status: number, body?: unknown) => () => checker.assertResponseMatchesSpec({ method: 'GET', path, status, body });
    expect(check('/things/1', 200, { name: null, kind: null, example: 3 })).not.toThrow();
    expect(check('/things/1', 200, { name: 'n', example: 'three' })).toThrow(/\/example/);
    expect(check('/things/1', 200, { kind: 'C', name: 'n' })).toThrow(/kind/);
    expect(check('/things/1', 204)).not.toThrow();
    expect(check('/things/1', 204, '')).not.toThrow();
    expect(check('/things/1', 204, '{"ok":true}')).not.toThrow();
    expect(check('/things/1', 204, 'not json')).toThrow(/not valid JSON/);
    expect(check('/things/1', 404, { message: 'x' })).not.toThrow();
    expect(check('/things/1', 404, {})).toThrow(/message/);
    expect(check('/things/1', 503, { anything: true })).not.toThrow();
    expect(check('/things/1', 503, 'whatever')).toThrow(/not valid JSON/);
    // The literal template wins over {id}; it documents 200 without a schema.
    expect(check('/things/special', 200, { anything: true })).not.toThrow();
    expect(checker.documentedOperations()).toEqual([
      { method: 'GET', pathTemplate: '/things/{id}', operationId: undefined, statuses: ['200', '204', '4XX', 'default'] },
      { method: 'GET', pathTemplate: '/things/special', operationId: undefined, statuses: ['200'] },
    ]);
  });
});
