/**
 * Composition roots, one per kind of function: each reads and validates the configuration it
 * needs and creates just the adapters its use cases use, once per container (at cold start);
 * every invocation reuses them. A function's bundle holds only what its factory creates.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, DYNAMODB_CALL_LIMITS } from './adapters/dynamodb/client.ts';
import { DynamoEmailDeliveryStore } from './adapters/dynamodb/delivery-store.ts';
import { DynamoEventStore } from './adapters/dynamodb/event-store.ts';
import { DynamoIdempotencyStore } from './adapters/dynamodb/idempotency-store.ts';
import { DynamoInvitationStore } from './adapters/dynamodb/invitation-store.ts';
import { DynamoOrganizationStore } from './adapters/dynamodb/organization-store.ts';
import { DynamoRateLimiter } from './adapters/dynamodb/rate-limiter.ts';
import { DynamoTimerStore } from './adapters/dynamodb/timer-store.ts';
import { SES_CALL_LIMITS, SesMailer } from './adapters/ses/mailer.ts';
import { randomIds, systemClock } from './adapters/system.ts';
import { loadApiConfig, loadDeliveryConfig, loadTableConfig, type ApiConfig, type DeliveryConfig } from './config.ts';
import type { IdempotencyStore } from './ports.ts';
import type { DeliveryDeps } from './services/email-delivery.ts';
import type { EventDeps } from './services/invitation-events.ts';
import type { InvitationDeps } from './services/invitations.ts';
import type { MemberDeps } from './services/members.ts';
import type { OrganizationDeps } from './services/organizations.ts';
import type { TimerDeps } from './services/timers.ts';

/** The organization routes: create, get, update, list the caller's. */
export function createOrganizationDependencies(env: NodeJS.ProcessEnv = process.env): OrganizationDeps {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return {
    organizations: new DynamoOrganizationStore(client, config.tableName, config.eventRetentionSeconds),
    rateLimiter: new DynamoRateLimiter(client, config.tableName),
    clock: systemClock,
    timings: config.invitations,
    rateLimits: config.rateLimits,
  };
}

/** The member routes: remove (or leave), change a role. */
export function createMemberDependencies(env: NodeJS.ProcessEnv = process.env): MemberDeps {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return { organizations: new DynamoOrganizationStore(client, config.tableName, config.eventRetentionSeconds), clock: systemClock };
}

/** The invitation routes: list, get, answer, resend. */
export function createInvitationDependencies(env: NodeJS.ProcessEnv = process.env): InvitationDeps {
  const config = loadApiConfig(env);
  return invitationDependencies(config, createDocumentClient({ endpoint: config.dynamodbEndpoint }));
}

/** The audit trail: an invitation's events. */
export function createEventDependencies(env: NodeJS.ProcessEnv = process.env): EventDeps {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return {
    organizations: new DynamoOrganizationStore(client, config.tableName, config.eventRetentionSeconds),
    invitations: new DynamoInvitationStore(client, config.tableName, config.invitations, config.eventRetentionSeconds),
    events: new DynamoEventStore(client, config.tableName),
    clock: systemClock,
  };
}

/** Creating invitations: the invitation use cases plus the Idempotency-Key store. */
export function createIdempotentInvitationDependencies(
  env: NodeJS.ProcessEnv = process.env,
): InvitationDeps & { idempotency: IdempotencyStore } {
  const config = loadApiConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return { ...invitationDependencies(config, client), idempotency: new DynamoIdempotencyStore(client, config.tableName) };
}

function invitationDependencies(config: ApiConfig, client: DynamoDBDocumentClient): InvitationDeps {
  return {
    organizations: new DynamoOrganizationStore(client, config.tableName, config.eventRetentionSeconds),
    invitations: new DynamoInvitationStore(client, config.tableName, config.invitations, config.eventRetentionSeconds),
    rateLimiter: new DynamoRateLimiter(client, config.tableName),
    clock: systemClock,
    ids: randomIds,
    timings: config.invitations,
    rateLimits: config.rateLimits,
    frontendUrl: config.frontendUrl,
  };
}

/**
 * The longest the steps of one email delivery take when DynamoDB and SES are degraded but within
 * their limits: one DynamoDB call (every attempt at its timeout, plus the SDK's backoffs), and the
 * send (every SES attempt at its timeout, the largest backoffs between).
 */
export function deliveryWorstCases(retry: DeliveryDeps['retry']): { dynamodbCallMs: number; sendMs: number } {
  const dynamodbCallMs = DYNAMODB_CALL_LIMITS.maxAttempts * DYNAMODB_CALL_LIMITS.requestTimeoutMs + 150;
  let sesBackoffMs = 0;
  for (let attempt = 1; attempt < retry.attempts; attempt++) sesBackoffMs += Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return { dynamodbCallMs, sendMs: retry.attempts * SES_CALL_LIMITS.requestTimeoutMs + sesBackoffMs };
}

/** A claim's end is set by one host's clock and checked by another's: allowance for their difference. */
const CLOCK_SKEW_MS = 5_000;

/**
 * The send claim's lease: from the clock reading it starts at to the outcome's write, the claim's
 * own write (sent after the reading), the send, and the outcome's write, each at its worst, plus
 * the clock allowance (38.9 s with the defaults). A claimer still alive is then always done within
 * its lease; one that outlives it has crashed (or its host stalled), and the sweep may send again.
 */
export function sendLeaseMs(retry: DeliveryDeps['retry']): number {
  const { dynamodbCallMs, sendMs } = deliveryWorstCases(retry);
  return 2 * dynamodbCallMs + sendMs + CLOCK_SKEW_MS;
}

/** The stream-triggered delivery function and the sweep. */
export function createDeliveryDependencies(env: NodeJS.ProcessEnv = process.env): DeliveryDeps & { config: DeliveryConfig } {
  const config = loadDeliveryConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  const retry = { attempts: config.sendAttempts, baseDelayMs: 200, maxDelayMs: 2_000 };
  return {
    config,
    store: new DynamoEmailDeliveryStore(client, config.tableName, config.eventRetentionSeconds),
    mailer: new SesMailer({
      from: config.senderEmail,
      replyTo: config.replyTo,
      configurationSet: config.configurationSet,
      endpoint: config.sesEndpoint,
    }),
    clock: systemClock,
    email: { frontendUrl: config.frontendUrl, brandName: config.brandName },
    retry,
    sendLeaseMs: sendLeaseMs(retry),
  };
}

/** The bounce/complaint function: the delivery store alone. */
export function createEmailDeliveryStore(env: NodeJS.ProcessEnv = process.env) {
  const config = loadTableConfig(env);
  return new DynamoEmailDeliveryStore(createDocumentClient({ endpoint: config.dynamodbEndpoint }), config.tableName, config.eventRetentionSeconds);
}

/** The timer function: the timer index and the writes that fire it. */
export function createTimerDependencies(env: NodeJS.ProcessEnv = process.env): TimerDeps {
  const config = loadTableConfig(env);
  const client = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  return { timers: new DynamoTimerStore(client, config.tableName, config.eventRetentionSeconds), clock: systemClock };
}
