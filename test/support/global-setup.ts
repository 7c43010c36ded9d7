/**
 * Vitest globalSetup: one DynamoDB Local and one SES emulator for the whole run. Tests read the
 * endpoints with `inject('dynamodbEndpoint')` / `inject('sesEndpoint')` and isolate themselves by
 * creating their own randomly named table (the DynamoDB database is shared, -sharedDb).
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { startSesLocal } from '../../local/ses-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sesEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamodb, ses] = await Promise.allSettled([startDynamoDbLocal({ inMemory: true }), startSesLocal({})]);
  if (dynamodb.status === 'rejected' || ses.status === 'rejected') {
    // Do not leave the one that did start running.
    await Promise.all([dynamodb, ses].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (ses as PromiseRejectedResult).reason;
  }
  project.provide('dynamodbEndpoint', dynamodb.value.endpoint);
  project.provide('sesEndpoint', ses.value.endpoint);
  return async () => {
    await Promise.all([dynamodb.value.stop(), ses.value.stop()]);
  };
}
