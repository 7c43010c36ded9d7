import type { Caller } from '../domain/caller.ts';
import { notAuthorized } from '../domain/errors.ts';

/**
 * The authorizer's context, as API Gateway hands it to handlers (HTTP API simple responses:
 * values are strings, numbers or booleans only).
 */
export interface AuthorizerContext {
  sub: string;
  email: string;
  emailVerified: boolean;
  username: string;
  /** Realm roles as a JSON array (role names may contain any character, so no separator is safe). */
  roles: string;
}

export function callerFrom(context: Partial<AuthorizerContext> | undefined): Caller {
  // Only reachable if the route was deployed without the authorizer: fail closed.
  if (!context?.sub) throw notAuthorized('Unauthorized');
  const roles = parseRoles(context.roles);
  return {
    userId: context.sub,
    email: context.email || undefined,
    emailVerified: context.emailVerified === true || String(context.emailVerified) === 'true',
    username: context.username || undefined,
    isRealmAdmin: roles.includes('admin'),
  };
}

function parseRoles(text: string | undefined): string[] {
  try {
    const roles: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}
