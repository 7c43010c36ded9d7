import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../local/route-match.ts';
import { authorizerEntry, routes } from '../../shared/deployment/routes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UUID = '0b6c2a3e-4f1d-4a8e-9c77-2f1f6d3b9a10';

function match(method: string, path: string) {
  const result = matchRoute(method, path);
  expect(result).toBeDefined();
  return { id: result!.route.id, params: result!.pathParameters };
}

describe('matchRoute', () => {
  it.each([
    ['POST', '/v1/organizations', 'createOrganization', {}],
    ['GET', '/v1/organizations', 'listOrganizations', {}],
    ['GET', '/v1/user/organizations', 'listUserOrganizations', {}],
    ['GET', '/v1/user/invitations', 'listMyInvitations', {}],
    ['GET', '/v1/organizations/acme', 'getOrganization', { org: 'acme' }],
    ['POST', '/v1/organizations/acme/invitations', 'createInvitations', { org: 'acme' }],
    ['GET', '/v1/organizations/acme/invitations', 'listInvitations', { org: 'acme' }],
    ['GET', `/v1/organizations/acme/invitations/${UUID}`, 'getInvitation', { org: 'acme', invitationId: UUID }],
    ['PUT', `/v1/organizations/acme/invitations/${UUID}`, 'answerInvitation', { org: 'acme', invitationId: UUID }],
    ['DELETE', `/v1/organizations/acme/invitations/${UUID}`, 'revokeInvitation', { org: 'acme', invitationId: UUID }],
    ['GET', `/v1/organizations/acme/invitations/${UUID}/events`, 'listInvitationEvents', { org: 'acme', invitationId: UUID }],
    ['POST', `/v1/organizations/42/invitations/${UUID}/resend`, 'resendInvitation', { org: '42', invitationId: UUID }],
    ['POST', `/v1/organizations/acme/invitations/${UUID}/resend`, 'resendInvitation', { org: 'acme', invitationId: UUID }],
    ['DELETE', '/v1/organizations/acme/members/bob', 'removeMember', { org: 'acme', userId: 'bob' }],
    ['PATCH', `/v1/organizations/acme/members/${UUID}`, 'updateMember', { org: 'acme', userId: UUID }],
  ])('%s %s → %s', (method, path, id, params) => {
    expect(match(method, path)).toEqual({ id, params });
  });

  it('routes /v1/user/organizations to the user route, not getOrganization', () => {
    expect(match('GET', '/v1/user/organizations').id).toBe('listUserOrganizations');
    expect(match('GET', '/v1/organizations/user').id).toBe('getOrganization');
  });

  it('does not validate variables: any non-empty segment binds', () => {
    expect(match('GET', '/v1/organizations/x/invitations/not-a-uuid')).toEqual({
      id: 'getInvitation',
      params: { org: 'x', invitationId: 'not-a-uuid' },
    });
  });

  it.each([
    ['DELETE', '/v1/organizations'],
    ['PUT', '/v1/organizations'],
    ['POST', '/v1/user/organizations'],
    ['PATCH', '/v1/organizations/acme'],
    ['DELETE', '/v1/organizations/acme'],
    ['PUT', '/v1/organizations/acme/invitations'],
    ['POST', `/v1/organizations/acme/invitations/${UUID}`],
    ['GET', `/v1/organizations/acme/invitations/${UUID}/resend`],
    ['PUT', `/v1/organizations/acme/invitations/${UUID}/resend`],
    ['get', '/v1/organizations'],
    ['OPTIONS', '/v1/organizations'],
  ])('%s %s (method mismatch) falls to $default', (method, path) => {
    expect(match(method, path)).toEqual({ id: 'notFound', params: {} });
  });

  it.each([
    ['trailing slash on a collection', 'GET', '/v1/organizations/'],
    ['trailing slash on the user route', 'GET', '/v1/user/organizations/'],
    ['trailing slash after an org', 'GET', '/v1/organizations/acme/'],
    ['trailing slash on invitations', 'GET', '/v1/organizations/acme/invitations/'],
    ['trailing slash on an invitation', 'PUT', `/v1/organizations/acme/invitations/${UUID}/`],
    ['trailing slash on resend', 'POST', `/v1/organizations/acme/invitations/${UUID}/resend/`],
    ['an extra segment', 'GET', `/v1/organizations/acme/invitations/${UUID}/extra`],
    ['an extra segment after resend', 'POST', `/v1/organizations/acme/invitations/${UUID}/resend/again`],
    ['an empty org segment', 'GET', '/v1/organizations//invitations'],
    ['an empty invitation segment', 'GET', '/v1/organizations/acme/invitations//resend'],
    ['a double slash', 'GET', '//v1/organizations'],
    ['no version', 'GET', '/organizations'],
    ['another version', 'GET', '/v2/organizations'],
    ['the root', 'GET', '/'],
    ['an empty path', 'GET', ''],
    ['a case-changed literal', 'GET', '/V1/Organizations'],
    ['the $default template itself', 'GET', '$default'],
    ['an unknown sub-resource', 'GET', '/v1/organizations/acme/members'],
  ])('%s falls to $default', (_name, method, path) => {
    expect(match(method, path)).toEqual({ id: 'notFound', params: {} });
  });

  it('decodes percent-encoded segments', () => {
    expect(match('GET', '/v1/organizations/acme%2Dlabs').params).toEqual({ org: 'acme-labs' });
    expect(match('GET', '/v1/organizations/acme%20labs').params).toEqual({ org: 'acme labs' });
    expect(match('GET', '/v1/organizations/%C3%A1cme').params).toEqual({ org: 'ácme' });
    expect(match('PUT', `/v1/organizations/a%2Fb/invitations/${UUID.toUpperCase().replace('-', '%2D')}`)).toEqual({
      id: 'answerInvitation',
      params: { org: 'a/b', invitationId: UUID.toUpperCase() },
    });
  });

  it('passes undecodable segments through unchanged', () => {
    expect(match('GET', '/v1/organizations/100%').params).toEqual({ org: '100%' });
    expect(match('GET', '/v1/organizations/%E0%A4%A').params).toEqual({ org: '%E0%A4%A' });
  });
});

describe('route table', () => {
  const concrete = routes.filter((r) => r.path !== '$default');

  it('has unique ids and unique method + path pairs', () => {
    expect(new Set(routes.map((r) => r.id)).size).toBe(routes.length);
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
  });

  it('has exactly one $default catch-all, for ANY method', () => {
    const defaults = routes.filter((r) => r.path === '$default');
    expect(defaults).toHaveLength(1);
    expect(defaults[0]).toMatchObject({ id: 'notFound', method: 'ANY' });
  });

  it('uses well-formed path templates', () => {
    for (const route of concrete) {
      expect(route.path).toMatch(/^(\/([a-z0-9-]+|\{\w+\}))+$/);
    }
  });

  it('never gives sibling path variables (same parent path) different names (API Gateway rule)', () => {
    // API Gateway builds a tree of path segments: one parent may not have two variable children
    // with different names (`/a/{x}` and `/a/{y}/b`), while `/a/b/{x}` and `/a/c/{y}` are fine.
    const namesByPosition = new Map<string, Set<string>>();
    for (const route of concrete) {
      const parts = route.path.split('/');
      parts.forEach((part, i) => {
        const variable = /^\{(\w+)\}$/.exec(part)?.[1];
        if (variable === undefined) return;
        const parent = parts.slice(0, i).map((p) => (p.startsWith('{') ? '{}' : p)).join('/');
        const names = namesByPosition.get(parent) ?? new Set<string>();
        names.add(variable);
        namesByPosition.set(parent, names);
      });
    }
    expect(namesByPosition.size).toBeGreaterThan(0);
    for (const [position, names] of namesByPosition) {
      expect([position, [...names]]).toEqual([position, [...names].slice(0, 1)]);
    }
  });

  it('matches each route with a path built from its own template', () => {
    for (const route of concrete) {
      const path = route.path.replace('{org}', 'acme').replace('{invitationId}', UUID);
      const method = route.method === 'ANY' ? 'GET' : route.method;
      expect(matchRoute(method, path)?.route).toBe(route);
    }
  });

  it.each(routes.map((r) => [r.id, r.entry]))('entry of %s (%s) exists', (_id, entry) => {
    expect(entry).toMatch(/^functions\/[\w-]+\.ts$/);
    expect(existsSync(`${ROOT}${entry}`)).toBe(true);
  });

  it('the authorizer entry exists', () => {
    expect(existsSync(`${ROOT}${authorizerEntry}`)).toBe(true);
  });
});
