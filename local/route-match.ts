/**
 * Routing as API Gateway does it, for the local gateway (local/api-gateway.ts): a concrete path
 * matched against the route table (shared/deployment/routes.ts).
 */
import { routes, type Route } from '../shared/deployment/routes.ts';

export interface RouteMatch {
  readonly route: Route;
  readonly pathParameters: Record<string, string>;
}

/** Matches a concrete path against the table the way API Gateway does: exact segments win, `$default` last. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/');
  for (const route of routes) {
    if (route.path === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = template.every((part, i) => {
      const segment = segments[i]!;
      const variable = /^\{(\w+)\}$/.exec(part);
      if (!variable) return part === segment;
      if (segment === '') return false;
      pathParameters[variable[1]!] = decodePathSegment(segment);
      return true;
    });
    if (matches) return { route, pathParameters };
  }
  const fallback = routes.find((r) => r.path === '$default');
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // API Gateway passes undecodable segments through as they are.
  }
}
