import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '../../ports.ts';
import { keys } from './keys.ts';
import { call, updateIfCondition } from './operations.ts';

/** How long a completed response is replayed. */
const RETENTION_SECONDS = 24 * 60 * 60;
/** How long a claim blocks retries before another request may take it over (≥ the function timeout). */
const LEASE_SECONDS = 30;

/**
 * Idempotency records in the service's own table (item IDEMP#<scope> / <key>, TTL'd): one
 * conditional write claims a key, so two concurrent requests with the same key cannot both run.
 *
 * Why not Powertools' idempotency utility: it adds two packages to every create bundle, hashes
 * the raw event by default (a re-serialized but equal body would count as different), and its
 * errors would still need mapping to this API's 409/422. The record here is a dozen lines of
 * conditions on the table we already have, with the same TTL and key conventions.
 */
export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(scope: string, key: string, fingerprint: string, nowMs: number): Promise<IdempotencyClaim> {
    const now = nowMs / 1000;
    try {
      await call(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...keys.idempotency(scope, key),
              type: 'IdempotencyRecord',
              state: 'IN_PROGRESS',
              fingerprint,
              leaseUntil: now + LEASE_SECONDS,
              expiresAt: now + RETENTION_SECONDS,
              [tableSchema.ttlAttribute]: Math.ceil(now + RETENTION_SECONDS),
            },
            // Free, expired (TTL is lazy), or abandoned by a request that died mid-flight.
            ConditionExpression:
              'attribute_not_exists(PK) OR expiresAt < :now OR (#state = :inProgress AND leaseUntil < :now AND fingerprint = :fingerprint)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':now': now, ':inProgress': 'IN_PROGRESS', ':fingerprint': fingerprint },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { kind: 'claimed' };
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const raw = (error as { Item?: Record<string, any> }).Item;
      const held = raw ? unmarshall(raw) : undefined;
      if (!held || held.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (held.state === 'COMPLETED') return { kind: 'completed', response: held.response as StoredResponse };
      return { kind: 'in-progress' };
    }
  }

  async complete(scope: string, key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    await updateIfCondition(this.client, {
      TableName: this.tableName,
      Key: keys.idempotency(scope, key),
      UpdateExpression: 'SET #state = :completed, #response = :response',
      ConditionExpression: 'fingerprint = :fingerprint',
      ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
      ExpressionAttributeValues: { ':completed': 'COMPLETED', ':response': response, ':fingerprint': fingerprint },
    });
  }

  async release(scope: string, key: string, fingerprint: string): Promise<void> {
    try {
      await call(() =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: keys.idempotency(scope, key),
            ConditionExpression: '#state = :inProgress AND fingerprint = :fingerprint',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS', ':fingerprint': fingerprint },
          }),
        ),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
