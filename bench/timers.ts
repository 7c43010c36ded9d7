/**
 * Timer-firing throughput of one run, on DynamoDB Local: seeds N due timers (half reminders, half
 * expiries, written as create writes them with lifetimes that began in the past), then times one
 * run of the timer service with the function's limits (functions/fire-invitation-timers.ts), and
 * the same at one firing in flight (the per-firing latency). Also prints the Node CPU time per
 * firing, which bounds each timer worker (its share of a vCPU: memory ÷ 1,769 MB) whatever the
 * concurrency. One run here reads all 64 shards, as all the workers together do.
 *
 *     npx tsx bench/timers.ts [N=2000]
 *
 * DynamoDB Local is not DynamoDB: its transactions are far slower and serialised, so the absolute
 * rate here is a floor; SCALING.md (step 4) estimates AWS from concurrency ÷ per-firing latency.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.ts';
import { toInvitationItem } from '../shared/adapters/dynamodb/items.ts';
import { DynamoTimerStore } from '../shared/adapters/dynamodb/timer-store.ts';
import { newInvitation, type InvitationTimings } from '../shared/domain/invitation.ts';
import { fireDueTimers, type TimerRunLimits } from '../shared/services/timers.ts';
import { createTable } from '../local/create-table.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';

const N = Number(process.argv[2] ?? 2000);
const TIMINGS: InvitationTimings = { expirySeconds: 300, retentionSeconds: 2_592_000, answeredRetentionSeconds: 31_536_000, reminderBeforeSeconds: 100 };

async function seed(db: DynamoDBDocumentClient, tableName: string, count: number): Promise<void> {
  const items = Array.from({ length: count }, (_, i) => {
    const address = `${crypto.randomUUID()}@example.com`;
    // Created 250 s ago: the reminder is due (expiry 50 s ahead); 400 s ago: the expiry is.
    const ageSeconds = i % 2 === 0 ? 250 : 400;
    const invitation = newInvitation(
      {
        id: crypto.randomUUID(),
        org: { id: 1 + (i % 200), name: `bench-${i % 200}` },
        email: { address, normalized: address },
        inviter: { userId: 'admin', email: 'admin@example.com', emailVerified: true, username: 'admin', isRealmAdmin: false },
      },
      Date.now() - ageSeconds * 1000,
      TIMINGS,
      { associationType: 'MEMBER', expiresInSeconds: TIMINGS.expirySeconds, sendEmail: true },
    );
    return toInvitationItem(invitation, TIMINGS);
  });
  for (let i = 0; i < items.length; i += 25) {
    let unprocessed: Record<string, any> | undefined = { [tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (unprocessed && Object.keys(unprocessed).length > 0) {
      ({ UnprocessedItems: unprocessed } = await db.send(new BatchWriteCommand({ RequestItems: unprocessed })));
    }
  }
}

async function measure(endpoint: string, count: number, limits: TimerRunLimits): Promise<void> {
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tableName = `bench-timers-${crypto.randomUUID()}`;
  await createTable(raw, tableName);
  await seed(DynamoDBDocumentClient.from(raw), tableName, count);
  const timers = new DynamoTimerStore(createDocumentClient({ endpoint }), tableName, 31_536_000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await fireDueTimers({ timers, clock: { nowMs: () => Date.now() } }, limits);
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const fired = result.expired + result.reminded + result.rescheduled;
  console.log(
    `${count} due, ${limits.concurrency} in flight: fired ${fired} (reminded ${result.reminded}, expired ${result.expired}) in ${(ms / 1000).toFixed(2)} s = ` +
      `${((fired * 1000) / ms).toFixed(0)} firings/s; mean ${((ms * limits.concurrency) / fired).toFixed(1)} ms per firing in flight; ` +
      `Node CPU ${((user + system) / 1000 / fired).toFixed(2)} ms per firing`,
  );
  raw.destroy();
}

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
const dynamodb = await startDynamoDbLocal();
try {
  const { TIMER_RUN_LIMITS: limits } = await import('../functions/fire-invitation-timers.ts');
  await measure(dynamodb.endpoint, Math.min(N, 200), { ...limits, concurrency: 1 }); // warm-up and per-firing latency
  await measure(dynamodb.endpoint, N, limits);
} finally {
  await dynamodb.stop();
}
