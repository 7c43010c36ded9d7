/**
 * `npx tsx bench/delivery-throughput.ts`: how fast the stream delivers emails through the local
 * stack (DynamoDB Local's stream → the local event source mapping → the delivery function → the
 * SES emulator), in emails a second. With delivery paused, it creates the invitations through
 * the API (10 addresses a request), then resumes delivery and times until every one is SENT and
 * the emulator holds exactly one email per invitation. Two spreads: over many organizations
 * (different partition keys; ORGANIZATIONS=50, the default) or all in one organization (one
 * partition key `ORG#<id>`; ORGANIZATIONS=1).
 * Prints the numbers SCALING.md and the README quote; DynamoDB Local is not DynamoDB, so they
 * compare settings on this machine, not AWS's throughput.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { createInvitationsClient } from '../client/index.ts';
import { startLocalApi } from '../local/api-gateway.ts';
import { createTable } from '../local/create-table.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { localFunctionEnvironment } from '../local/environment.ts';
import { startEventSources } from '../local/event-sources.ts';
import { LocalIssuer } from '../local/issuer.ts';
import { listLocalEmails, startSesLocal } from '../local/ses-local.ts';
import { DELIVERY_STREAM } from '../shared/deployment/email-delivery-trigger.ts';

const INVITATIONS = Number(process.env.INVITATIONS ?? 500);
/** Organizations the invitations are spread over (one run each: handler modules read their environment once). */
const ORGANIZATIONS = Number(process.env.ORGANIZATIONS ?? 50);
const EMAILS_PER_REQUEST = 10;
const TIMEOUT_MS = 300_000;
const TABLE = 'delivery-throughput';

const dynamodb = await startDynamoDbLocal({ inMemory: true });
const ses = await startSesLocal();
try {
  const issuer = LocalIssuer.ephemeral();
  Object.assign(process.env, localFunctionEnvironment({ tableName: TABLE, dynamodbEndpoint: dynamodb.endpoint, sesEndpoint: ses.endpoint, issuer }), {
    POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
    RATE_LIMIT_CREATE: '1000000/600',
    RATE_LIMIT_CREATE_ORGANIZATION: '1000000/600',
  });
  const raw = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const db = DynamoDBDocumentClient.from(raw);
  await createTable(raw, TABLE);
  const events = await startEventSources({ dynamodbEndpoint: dynamodb.endpoint, tableName: TABLE });
  const api = await startLocalApi({ jwks: issuer.jwks });
  // Created while delivery is paused, so the timing below is delivery alone.
  await events.pauseDelivery();
  const token = issuer.token({ sub: 'bench-admin', email: 'bench-admin@bench.test', username: 'bench-admin', expiresIn: 3600 });
  const client = createInvitationsClient(api.url, { token });
  const orgNames = Array.from({ length: ORGANIZATIONS }, (_, i) => `bench-${i}`);
  for (const name of orgNames) {
    const { response } = await client.POST('/v1/organizations', { body: { name, contactEmail: 'org@bench.test', visibility: 'PRIVATE' } });
    if (response.status !== 201) throw new Error(`create organization answered ${response.status}`);
  }
  for (let r = 0; r < INVITATIONS / EMAILS_PER_REQUEST; r++) {
    const emails = Array.from({ length: EMAILS_PER_REQUEST }, (_, j) => `invitee-${r}-${j}@bench.test`);
    const { response } = await client.POST('/v1/organizations/{orgName}/invitations', { params: { path: { orgName: orgNames[r % ORGANIZATIONS]! } }, body: { emails } });
    if (response.status !== 201) throw new Error(`create invitations answered ${response.status}`);
  }
  const t0 = performance.now();
  await events.resumeDelivery();
  let sent = 0;
  while (sent < INVITATIONS && performance.now() - t0 < TIMEOUT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    sent = await countSent(db);
  }
  const seconds = (performance.now() - t0) / 1000;
  await events.stop();
  await api.close();
  raw.destroy();
  const emails = await listLocalEmails(ses.endpoint);
  const distinct = new Set(emails.map((email) => email.destination.to[0]));
  console.log(
    `parallelization factor ${DELIVERY_STREAM.parallelizationFactor}, batch size ${DELIVERY_STREAM.batchSize}, ${ORGANIZATIONS} organization(s): ` +
      `${sent}/${INVITATIONS} SENT in ${seconds.toFixed(1)} s = ${(sent / seconds).toFixed(0)} emails/s; ` +
      `the SES emulator holds ${emails.length} emails to ${distinct.size} addresses`,
  );
  if (sent !== INVITATIONS || emails.length !== INVITATIONS || distinct.size !== INVITATIONS) process.exitCode = 1;
} finally {
  await ses.stop();
  await dynamodb.stop();
}

/** Invitations whose email is recorded SENT. */
async function countSent(db: DynamoDBDocumentClient): Promise<number> {
  let count = 0;
  const pages = paginateScan(
    { client: db },
    {
      TableName: TABLE,
      FilterExpression: '#type = :invitation AND emailStatus = :sent',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':invitation': 'Invitation', ':sent': 'SENT' },
      Select: 'COUNT',
    },
  );
  for await (const page of pages) count += page.Count ?? 0;
  return count;
}
