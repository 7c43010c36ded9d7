/**
 * Each request shape is declared once, as the valibot schema the handlers validate with
 * (shared/http/bodies.ts and params.ts; the Idempotency-Key header in shared/http/idempotency.ts).
 * This keeps openapi.yaml saying the same: each declaration is converted to JSON Schema
 * (@valibot/to-json-schema) and compared with what openapi.yaml documents for its operation's
 * request body or parameter: field names, required-ness, types, enums, lengths, item counts,
 * value bounds, string patterns and additionalProperties. Parts that are not shape are skipped by
 * kind: meaning checks (email validity, which the domain owns), the guard that a body is a plain
 * object (already `type: object`) and normalizations (trimming, lower-casing). Anything else the
 * converter cannot express fails the test, so no constraint goes unchecked silently.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  AnswerInvitationBody,
  CreateInvitationsBody,
  CreateOrganizationBody,
  UpdateMemberBody,
  DryRunInvitationsBody,
  UpdateOrganizationBody,
} from '../../shared/http/bodies.ts';
import { IdempotencyKeyHeader } from '../../shared/http/idempotency.ts';
import {
  CreateInvitationsQuery,
  InvitationIdParam,
  ListInvitationEventsQuery,
  ListInvitationsQuery,
  MyInvitationsQuery,
  OrganizationIdParam,
  OrganizationNameParam,
  UserIdParam,
} from '../../shared/http/params.ts';
import { HTTP_METHODS, isObject, loadOpenApiDocument, resolve, type JsonObject } from '../support/openapi.ts';

const doc = loadOpenApiDocument();

interface BodyDeclaration {
  readonly operation: string;
  readonly schema: GenericSchema;
  /** Properties openapi.yaml documents (not read-only) that the service deliberately does not read, and why. */
  readonly ignored?: Readonly<Record<string, string>>;
}

const BODIES: readonly BodyDeclaration[] = [
  {
    operation: 'POST /v1/organizations',
    schema: CreateOrganizationBody,
    ignored: { creator: 'the creator is the caller; clients may echo the whole Organization back' },
  },
  { operation: 'PATCH /v1/organizations/{id}/partial', schema: UpdateOrganizationBody },
  { operation: 'POST /v1/organizations/{orgName}/invitations', schema: CreateInvitationsBody },
  { operation: 'PATCH /v1/organizations/{orgName}/members/{userId}', schema: UpdateMemberBody },
  { operation: 'POST /v1/organizations/{orgName}/invitations', schema: DryRunInvitationsBody },
  {
    operation: 'PUT /v1/organizations/{name}/invitations/{uuid}',
    schema: AnswerInvitationBody,
    ignored: Object.fromEntries(
      ['id', 'userId', 'userEmail', 'expirationDate', 'associationType'].map((field) => [
        field,
        'only status is read; the generated client sends the whole invitation back',
      ]),
    ),
  },
];

const QUERIES: Readonly<Record<string, GenericSchema>> = {
  'GET /v1/organizations/{orgName}/invitations': ListInvitationsQuery,
  'POST /v1/organizations/{orgName}/invitations': CreateInvitationsQuery,
  'GET /v1/user/invitations': MyInvitationsQuery,
  'GET /v1/organizations/{orgName}/invitations/{invitationId}/events': ListInvitationEventsQuery,
};

/** Every path parameter of openapi.yaml, by operation and name (the route table calls them all {org} or {invitationId}). */
const PATH_PARAMETERS: Readonly<Record<string, GenericSchema>> = {
  'GET /v1/organizations/{name} name': OrganizationNameParam,
  'PATCH /v1/organizations/{id}/partial id': OrganizationIdParam,
  'GET /v1/organizations/{orgName}/invitations orgName': OrganizationNameParam,
  'POST /v1/organizations/{orgName}/invitations orgName': OrganizationNameParam,
  'POST /v1/organizations/{orgId}/invitations/{id}/resend orgId': OrganizationIdParam,
  'POST /v1/organizations/{orgId}/invitations/{id}/resend id': InvitationIdParam,
  'GET /v1/organizations/{name}/invitations/{uuid} name': OrganizationNameParam,
  'GET /v1/organizations/{name}/invitations/{uuid} uuid': InvitationIdParam,
  'PUT /v1/organizations/{name}/invitations/{uuid} name': OrganizationNameParam,
  'PUT /v1/organizations/{name}/invitations/{uuid} uuid': InvitationIdParam,
  'DELETE /v1/organizations/{orgName}/members/{userId} orgName': OrganizationNameParam,
  'DELETE /v1/organizations/{orgName}/members/{userId} userId': UserIdParam,
  'PATCH /v1/organizations/{orgName}/members/{userId} orgName': OrganizationNameParam,
  'PATCH /v1/organizations/{orgName}/members/{userId} userId': UserIdParam,
  'DELETE /v1/organizations/{name}/invitations/{uuid} name': OrganizationNameParam,
  'DELETE /v1/organizations/{name}/invitations/{uuid} uuid': InvitationIdParam,
  'GET /v1/organizations/{orgName}/invitations/{invitationId}/events orgName': OrganizationNameParam,
  'GET /v1/organizations/{orgName}/invitations/{invitationId}/events invitationId': InvitationIdParam,
};

const HEADERS: Readonly<Record<string, GenericSchema>> = {
  'POST /v1/organizations/{orgName}/invitations Idempotency-Key': IdempotencyKeyHeader,
};

// ---------------------------------------------------------------------------------------------
// Conversion and comparison

/** Parts of a declaration that check meaning or normalize, not shape (see the file comment). */
const NOT_SHAPE = /^(schema:custom|validation:check|transformation:.*)$/;

/** The declaration as OpenAPI 3.0 JSON Schema, and the parts the converter could not express. */
function converted(schema: GenericSchema): { json: JsonObject; unconverted: string[] } {
  const unconverted: string[] = [];
  const json = toJsonSchema(schema, {
    target: 'openapi-3.0',
    // Only the converter's notice about pipes holding several schemas (a list checked for its
    // size, then for its entries; a string read as a number) is left to this setting: those
    // are merged, as meant. Everything else it cannot convert is collected below.
    errorMode: 'ignore',
    overrideAction: ({ valibotAction, errors }) => {
      if (errors) unconverted.push(`${valibotAction.kind}:${valibotAction.type}`);
      return undefined;
    },
    overrideSchema: ({ valibotSchema, errors }) => {
      if (errors) unconverted.push(`schema:${valibotSchema.type}`);
      return undefined;
    },
  }) as JsonObject;
  return { json, unconverted: unconverted.filter((part) => !NOT_SHAPE.test(part)) };
}

/** What a schema constrains, comparable between the two sides ($refs resolved). */
function shapeOf(value: unknown): JsonObject {
  const schema = obj(resolve(doc, value));
  const type = schema.type;
  return strip({
    type,
    enum: Array.isArray(schema.enum) ? [...schema.enum].map(String).sort() : undefined,
    minLength: schema.minLength,
    maxLength: schema.maxLength,
    minItems: schema.minItems,
    maxItems: schema.maxItems,
    minimum: schema.minimum,
    maximum: schema.maximum,
    // A pattern only constrains strings (the declarations also match digits before reading a number).
    pattern: type === 'string' ? schema.pattern : undefined,
    items: schema.items === undefined ? undefined : shapeOf(schema.items),
  });
}

const isReadOnly = (value: unknown) => obj(value).readOnly === true || obj(resolve(doc, value)).readOnly === true;
const isNullable = (value: unknown) => obj(resolve(doc, value)).nullable === true;
/** How the declarations refuse a field outright (`never`). */
const isRefused = (value: unknown) => isObject(obj(value).not) && Object.keys(obj(obj(value).not)).length === 0;

/**
 * Compares an object declaration with the object openapi.yaml documents. Returns the
 * differences, one line each, so a failure names every disagreement at once.
 */
function objectDifferences(
  declared: JsonObject,
  documented: { properties: JsonObject; required: readonly string[]; additionalProperties?: unknown },
  { ignored = {}, readOnlyIsIgnored }: { ignored?: Readonly<Record<string, string>>; readOnlyIsIgnored: boolean },
): string[] {
  const differences: string[] = [];
  const declaredProperties = obj(declared.properties);
  const declaredRequired = new Set(Array.isArray(declared.required) ? (declared.required as string[]) : []);
  for (const [name, property] of Object.entries(documented.properties)) {
    const declaration = declaredProperties[name];
    if ((readOnlyIsIgnored && isReadOnly(property)) || name in ignored) {
      // Never taken from a request: not declared (ignored), or refused.
      if (declaration !== undefined && !isRefused(declaration)) {
        differences.push(`${name}: openapi.yaml says it is not read from requests, but the declaration reads it`);
      }
      continue;
    }
    if (declaration === undefined) {
      differences.push(`${name}: documented, not declared`);
      continue;
    }
    const expected = shapeOf(property);
    const actual = shapeOf(declaration);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      differences.push(`${name}: declared ${JSON.stringify(actual)}, documented ${JSON.stringify(expected)}`);
    }
    const required = documented.required.includes(name);
    if (declaredRequired.has(name) !== required) {
      differences.push(`${name}: ${required ? 'required' : 'optional'} in openapi.yaml, not in the declaration`);
    }
    // null: documented as allowed → accepted. The declarations may also take null for an optional
    // field where the document does not say so: null then means "not given".
    if (isNullable(property) && !isNullable(declaration)) differences.push(`${name}: documented nullable, declared not`);
    if (!isNullable(property) && isNullable(declaration) && required) differences.push(`${name}: required, declared nullable`);
  }
  for (const [name, declaration] of Object.entries(declaredProperties)) {
    if (!(name in documented.properties) && !isRefused(declaration)) differences.push(`${name}: declared, not documented`);
  }
  if ('additionalProperties' in documented) {
    const closed = documented.additionalProperties === false;
    if ((declared.additionalProperties === false) !== closed) {
      differences.push(`additionalProperties: ${closed ? 'refused' : 'allowed'} in openapi.yaml, not in the declaration`);
    }
  } else if (declared.additionalProperties === false) {
    differences.push('additionalProperties: the declaration refuses other fields, openapi.yaml does not say so');
  }
  return differences;
}

// ---------------------------------------------------------------------------------------------
// openapi.yaml access

interface DocumentedOperation {
  readonly key: string;
  readonly path: string;
  readonly operation: JsonObject;
  readonly parameters: JsonObject[];
}

const operations: DocumentedOperation[] = Object.entries(obj(doc.paths)).flatMap(([path, pathItemRef]) => {
  const pathItem = obj(resolve(doc, pathItemRef));
  return HTTP_METHODS.filter((method) => isObject(pathItem[method])).map((method) => {
    const operation = obj(resolve(doc, pathItem[method]));
    const parameters = [pathItem.parameters, operation.parameters].flatMap((list) =>
      Array.isArray(list) ? list.map((ref: unknown) => obj(resolve(doc, ref))) : [],
    );
    return { key: `${method.toUpperCase()} ${path}`, path, operation, parameters };
  });
});

function operation(key: string): DocumentedOperation {
  const found = operations.find((op) => op.key === key);
  if (!found) throw new Error(`openapi.yaml has no operation ${key}`);
  return found;
}

function documentedBody(key: string) {
  const body = obj(resolve(doc, operation(key).operation.requestBody));
  const schema = obj(resolve(doc, obj(obj(obj(body.content)['application/json']).schema)));
  return {
    properties: obj(schema.properties),
    required: Array.isArray(schema.required) ? (schema.required as string[]) : [],
    ...('additionalProperties' in schema && { additionalProperties: schema.additionalProperties }),
  };
}

function obj(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

function strip(value: Record<string, unknown>): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

// ---------------------------------------------------------------------------------------------

describe('request declarations agree with openapi.yaml', () => {
  for (const { operation: key, schema, ignored } of BODIES) {
    it(`${key}: the body`, () => {
      const { json, unconverted } = converted(schema);
      expect(unconverted, 'parts the comparison cannot see').toEqual([]);
      expect(json.type).toBe('object');
      // readOnly: never taken from a request body (OpenAPI 3.0).
      expect(objectDifferences(json, documentedBody(key), { ignored, readOnlyIsIgnored: true })).toEqual([]);
    });
  }

  for (const [key, schema] of Object.entries(QUERIES)) {
    it(`${key}: the query`, () => {
      const { json, unconverted } = converted(schema);
      expect(unconverted, 'parts the comparison cannot see').toEqual([]);
      const query = operation(key).parameters.filter((p) => p.in === 'query');
      const documented = {
        properties: Object.fromEntries(query.map((p) => [String(p.name), p.schema])),
        required: query.filter((p) => p.required === true).map((p) => String(p.name)),
      };
      // A parameter's schema may be a readOnly component (EmailDeliveryStatus): that is about bodies.
      expect(objectDifferences(json, documented, { readOnlyIsIgnored: false })).toEqual([]);
    });
  }

  for (const [where, declarations] of [['path', PATH_PARAMETERS], ['header', HEADERS]] as const) {
    for (const [key, schema] of Object.entries(declarations)) {
      it(`${key}: the ${where} parameter`, () => {
        const name = key.split(' ').at(-1)!;
        const op = operation(key.split(' ').slice(0, 2).join(' '));
        const parameter = op.parameters.find((p) => p.in === where && p.name === name);
        expect(parameter, `openapi.yaml documents ${key}`).toBeDefined();
        const { json, unconverted } = converted(schema);
        expect(unconverted, 'parts the comparison cannot see').toEqual([]);
        expect(shapeOf(json)).toEqual(shapeOf(parameter!.schema));
      });
    }
  }

  it('covers every request body, query, path and header parameter openapi.yaml documents', () => {
    const bodies = operations.filter((op) => op.operation.requestBody !== undefined).map((op) => op.key);
    expect(bodies.sort()).toEqual([...new Set(BODIES.map((body) => body.operation))].sort());
    const queries = operations.filter((op) => op.parameters.some((p) => p.in === 'query')).map((op) => op.key);
    expect(queries.sort()).toEqual(Object.keys(QUERIES).sort());
    const pathParameters = operations.flatMap((op) => op.parameters.filter((p) => p.in === 'path').map((p) => `${op.key} ${String(p.name)}`));
    expect(pathParameters.sort()).toEqual(Object.keys(PATH_PARAMETERS).sort());
    const headers = operations.flatMap((op) => op.parameters.filter((p) => p.in === 'header').map((p) => `${op.key} ${String(p.name)}`));
    expect(headers.sort()).toEqual(Object.keys(HEADERS).sort());
  });
});
