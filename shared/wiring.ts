/**
 * Composition root for the API functions: reads and validates configuration and creates the
 * adapters once per container (at cold start), then every invocation reuses them.
 */
import { createDocumentClient } from './adapters/dynamodb/client.ts';
import { DynamoInvitationStore } from './adapters/dynamodb/invitation-store.ts';
import { DynamoOrganizationStore } from './adapters/dynamodb/organization-store.ts';
import { DynamoRateLimiter } from './adapters/dynamodb/rate-limiter.ts';
import { randomIds, systemClock } from './adapters/system.ts';
import { DynamoEmailDeliveryStore } from './adapters/dynamodb/delivery-store.ts';
import { DynamoIdempotencyStore } from './adapters/dynamodb/idempotency-store.ts';
import type { IdempotencyStore } from './ports.ts';
import { SesMailer } from './adapters/ses/mailer.ts';
import { loadApiConfig, loadDeliveryConfig, loadTableConfig, type DeliveryConfig } from './config.ts';
import type { DeliveryDeps } from './services/email-delivery.ts';
import type { InvitationDeps } from './services/invitations.ts';
import type { OrganizationDeps } from './services/organizations.ts';

export function createApiDependencies(
  env: NodeJS.ProcessEnv = process.env,
): InvitationDeps & OrganizationDeps & { idempotency: IdempotencyStore } {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return {
    organizations: new DynamoOrganizationStore(client, config.tableName),
    invitations: new DynamoInvitationStore(client, config.tableName, config.invitations),
    rateLimiter: new DynamoRateLimiter(client, config.tableName),
    idempotency: new DynamoIdempotencyStore(client, config.tableName),
    clock: systemClock,
    ids: randomIds,
    timings: config.invitations,
    rateLimits: config.rateLimits,
  };
}

export function createDeliveryDependencies(env: NodeJS.ProcessEnv = process.env): DeliveryDeps & { config: DeliveryConfig } {
  const config = loadDeliveryConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return {
    config,
    store: new DynamoEmailDeliveryStore(client, config.tableName),
    mailer: new SesMailer({
      from: config.senderEmail,
      replyTo: config.replyTo,
      configurationSet: config.configurationSet,
      endpoint: config.sesEndpoint,
    }),
    clock: systemClock,
    email: { frontendUrl: config.frontendUrl, brandName: config.brandName },
    retry: { attempts: config.sendAttempts, baseDelayMs: 200, maxDelayMs: 2_000 },
  };
}

export function createEmailDeliveryStore(env: NodeJS.ProcessEnv = process.env) {
  const config = loadTableConfig(env);
  return new DynamoEmailDeliveryStore(createDocumentClient({ endpoint: config.dynamodbEndpoint }), config.tableName);
}
