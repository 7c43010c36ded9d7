/**
 * Composition root for the API functions: reads and validates configuration and creates the
 * adapters once per container (at cold start), then every invocation reuses them.
 */
import { createDocumentClient } from './adapters/dynamodb/client.ts';
import { DynamoInvitationStore } from './adapters/dynamodb/invitation-store.ts';
import { DynamoOrganizationStore } from './adapters/dynamodb/organization-store.ts';
import { DynamoRateLimiter } from './adapters/dynamodb/rate-limiter.ts';
import { randomIds, systemClock } from './adapters/system.ts';
import { loadApiConfig } from './config.ts';
import type { InvitationDeps } from './services/invitations.ts';

export function createApiDependencies(env: NodeJS.ProcessEnv = process.env): InvitationDeps {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return {
    organizations: new DynamoOrganizationStore(client, config.tableName),
    invitations: new DynamoInvitationStore(client, config.tableName, config.invitations),
    rateLimiter: new DynamoRateLimiter(client, config.tableName),
    clock: systemClock,
    ids: randomIds,
    timings: config.invitations,
    rateLimits: config.rateLimits,
  };
}
