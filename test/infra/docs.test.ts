/**
 * The API reference on AWS (context publishDocs): off by default; when on, GET /docs with its
 * assets and GET /openapi.yaml are routes without the authorizer, served by a function with no
 * permissions beyond its logs, and every other route keeps the authorizer.
 */
import { describe, expect, it } from 'vitest';
import { docsRoutes, routes } from '../../shared/deployment/routes.ts';
import { DOCS_PATHS } from '../../shared/docs/api-reference.ts';
import { logicalId, resourcesOfType, roleStatements, synth } from './helpers.ts';

const docsKeys = Object.values(DOCS_PATHS).map((path) => `GET ${path}`);

function routesOf(template: ReturnType<typeof synth>['template']) {
  return Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).map((route) => route.Properties as Record<string, any>);
}

describe('publishDocs', () => {
  it('is off by default: no docs route, no docs function', () => {
    const { template, stack } = synth();
    const keys = routesOf(template).map((route) => route.RouteKey);
    for (const key of docsKeys) expect(keys).not.toContain(key);
    expect(stack.functions.has('apiDocs')).toBe(false);
  });

  it('publishes /docs and /openapi.yaml without the authorizer, and nothing else', () => {
    const built = synth({ publishDocs: 'true' });
    const all = routesOf(built.template);
    const open = all.filter((route) => route.AuthorizationType !== 'CUSTOM').map((route) => route.RouteKey);
    expect(open.sort()).toEqual([...docsKeys, 'OPTIONS /{proxy+}'].sort());
    expect(docsRoutes.map((route) => `${route.method} ${route.path}`).sort()).toEqual([...docsKeys].sort());
    // Every route of the API keeps the authorizer.
    expect(all.filter((route) => route.AuthorizationType === 'CUSTOM')).toHaveLength(routes.length);

    // One function serves them; its role may write its logs and nothing else.
    const docs = built.stack.functions.get('apiDocs')!;
    const statements = roleStatements(built.template, logicalId(built, docs.role));
    expect(statements.flatMap((statement) => statement.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const integrations = resourcesOfType(built.template, 'AWS::ApiGatewayV2::Integration');
    for (const route of all.filter((r) => docsKeys.includes(r.RouteKey))) {
      const integrationId = (route.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      expect(JSON.stringify(integrations[integrationId.Ref]!.Properties.IntegrationUri)).toContain(logicalId(built, docs.function));
    }
  });

  it('rejects a value that is not a boolean', () => {
    expect(() => synth({ publishDocs: 'yes' })).toThrow(/publishDocs must be true or false/);
  });
});
