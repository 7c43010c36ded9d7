/**
 * `npm start`: DynamoDB Local, the SES emulator, the local OIDC issuer and the API, wired like
 * AWS. Ctrl-C (SIGINT) or SIGTERM stops every child process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalApi } from './api-gateway.ts';
import { createTable } from './create-table.ts';
import { LocalEventBus } from './event-bus.ts';
import { startEventSources } from './event-sources.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { localFunctionEnvironment } from './environment.ts';
import { LocalIssuer } from './issuer.ts';
import { startSesLocal } from './ses-local.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const TABLE_NAME = 'jaqpot-invitations-local';

const port = Number(process.env.PORT ?? 3000);
const dynamodbPort = Number(process.env.DYNAMODB_PORT ?? 8000);
const sesPort = Number(process.env.SES_PORT ?? 8005);

const stops: Array<() => Promise<void>> = [];
let stopping = false;
async function stopAll(exitCode: number) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(exitCode);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  // Data survives restarts in .local/ (delete .local/dynamodb-data to start over).
  const dynamodb = await startDynamoDbLocal({ port: dynamodbPort, inMemory: false, dataDir: join(repoRoot, '.local', 'dynamodb-data') });
  stops.push(dynamodb.stop);
  const ses = await startSesLocal({ port: sesPort });
  stops.push(ses.stop);

  const issuer = LocalIssuer.fromFile();
  Object.assign(
    process.env,
    localFunctionEnvironment({
      tableName: TABLE_NAME,
      dynamodbEndpoint: dynamodb.endpoint,
      sesEndpoint: ses.endpoint,
      issuer,
      overrides: process.env,
    }),
  );
  await createTable(new DynamoDBClient({ endpoint: dynamodb.endpoint }), TABLE_NAME);

  // Before the API, so that the stream is read from before the first invitation.
  // The local stand-in for the EventBridge bus: one line per event below, and the events in
  // .local/events.jsonl and at GET /_local/events (both from this start on).
  const eventBus = new LocalEventBus({ file: join(repoRoot, '.local', 'events.jsonl'), deadLetterFile: join(repoRoot, '.local', 'events-dlq.jsonl') });
  // The invitation timers every TIMER_PERIOD_MS (default 10 s; on AWS every minute), so that
  // reminders and expiry events of short lifetimes show up soon.
  const timerPeriodMs = Number(process.env.TIMER_PERIOD_MS ?? 10_000);
  const events = await startEventSources({ dynamodbEndpoint: dynamodb.endpoint, tableName: TABLE_NAME, sweepEveryMs: 10_000, timerPeriodMs, eventBus });
  stops.push(events.stop);

  const localRoutes = { '/_local/events': () => eventBus.events, '/_local/events/dead-letters': () => eventBus.deadLetters };
  const api = await startLocalApi({ port, jwks: issuer.jwks, logRequests: true, localRoutes, publishDocs: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new Error(`the API port ${port} is already in use: stop what listens there, or set PORT to a free port (e.g. PORT=3100 npm start)`);
    }
    throw error;
  });
  stops.push(api.close);
  const { cors, authorizer } = api.settings;

  console.log(`
  DynamoDB Local   ${dynamodb.endpoint}  (table ${TABLE_NAME})
  SES emulator     ${ses.endpoint}
  Email inbox      ${ses.inboxUrl}  (invitation emails show up here within ~2 s)
  Email delivery   table stream → delivery function; sweep every 10 s
  Events           table stream → event pipe → local bus: one "event …" line each below,
                   .local/events.jsonl and ${api.url}/_local/events (failed: .local/events-dlq.jsonl)
  OIDC issuer      ${issuer.issuer}  (audience ${issuer.audience}; key in .local/issuer/)
  API              ${api.url}  (one line per request below; a 401 shows the authorizer's reason)
  API reference    ${api.url}/docs and ${api.url}/openapi.yaml  (no token needed)
  CORS origins     ${cors.allowOrigins.join(', ')}  (ALLOWED_ORIGINS; default: the origin of FRONTEND_URL)
  Authorizer cache ${authorizer.cacheTtlSeconds ? `${authorizer.cacheTtlSeconds} s per Authorization header` : 'off'}  (AUTHORIZER_CACHE_TTL_SECONDS)

  Try it:
    TOKEN=$(npm run -s token -- --sub alice --email alice@example.com --username alice)
    curl -s -X POST ${api.url}/v1/organizations -H "Authorization: Bearer $TOKEN" \\
      -H 'Content-Type: application/json' -d '{"name":"acme","contactEmail":"hello@acme.test","visibility":"PRIVATE"}'
    curl -s -X POST ${api.url}/v1/organizations/acme/invitations -H "Authorization: Bearer $TOKEN" \\
      -H 'Content-Type: application/json' -d '{"emails":["bob@example.com"]}'

  Ready: the API is listening on ${api.url} (Ctrl-C stops everything)
`);
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`);
  await stopAll(1);
}
