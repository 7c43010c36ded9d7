/** Small helpers over the API for integration tests. */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import type { TestStack } from './stack.ts';
import { uniqueOrgName } from './stack.ts';

export interface TestUser {
  readonly sub: string;
  readonly email: string;
  readonly token: string;
}

export async function createOrganization(
  stack: TestStack,
  admin: TestUser,
  options: { name?: string; visibility?: 'PUBLIC' | 'PRIVATE' } = {},
): Promise<{ id: number; name: string }> {
  const name = options.name ?? uniqueOrgName();
  const response = await stack.api.post('/v1/organizations', {
    token: admin.token,
    body: { name, contactEmail: 'contact@example.com', visibility: options.visibility ?? 'PRIVATE' },
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.id, name };
}

export async function invite(stack: TestStack, admin: TestUser, orgName: string, emails: string[]) {
  const response = await stack.api.post(`/v1/organizations/${orgName}/invitations`, { token: admin.token, body: { emails } });
  expect(response.status, response.text).toBe(201);
  return response.body as { invitations: any[]; skipped: { email: string; reason: string }[] };
}

/**
 * Simulates the passage of time: moves an invitation's expiry (and its pending guard's, which
 * always shares it) into the past, as if the expiry passed and TTL has not deleted anything yet.
 */
export async function expireInvitation(stack: TestStack, orgId: number, invitationId: string, secondsAgo = 60) {
  const past = Math.floor(Date.now() / 1000) - secondsAgo;
  const { Attributes } = await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: { PK: `ORG#${orgId}`, SK: `INV#${invitationId}` },
      UpdateExpression: 'SET expiresAt = :past',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':past': past },
      ReturnValues: 'ALL_NEW',
    }),
  );
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: { PK: `ORG#${orgId}`, SK: `GUARD#${Attributes!.emailNormalized}` },
      UpdateExpression: 'SET expiresAt = :past',
      ConditionExpression: 'invitationId = :id',
      ExpressionAttributeValues: { ':past': past, ':id': invitationId },
    }),
  );
}
