import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import { rateLimited, rateLimitWindow, type RateLimitPolicy, type RateLimitState } from '../../domain/rate-limit.ts';
import type { RateLimiter } from '../../ports.ts';
import { keys } from './keys.ts';
import { call } from './operations.ts';

/**
 * A counter item per (action, user, window), incremented with a conditional update: exact
 * across every concurrently running Lambda instance, one write per request. Items expire by TTL.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async consume(action: string, userId: string, policy: RateLimitPolicy, nowMs: number): Promise<RateLimitState> {
    const window = rateLimitWindow(policy, nowMs);
    try {
      const { Attributes } = await call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.rateLimitWindow(action, userId, window.index),
            UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#count': 'count', '#ttl': tableSchema.ttlAttribute },
            ExpressionAttributeValues: { ':one': 1, ':limit': policy.limit, ':ttl': window.resetAt + 60 },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      const count = Attributes!.count as number;
      return { limit: policy.limit, remaining: Math.max(0, policy.limit - count), resetAt: window.resetAt };
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      throw rateLimited({ limit: policy.limit, remaining: 0, resetAt: window.resetAt }, nowMs);
    }
  }
}
