/**
 * Deterministic interleaving for tests whose handlers run in this process: runs another action
 * (typically another API request) just before a chosen DynamoDB write of the service (or an
 * email it sends) is sent, then lets that call go. A request's reads have then happened before the action and its write
 * after it: the timing a real race produces only now and then, and an emulator never on demand.
 *
 * It spies on the same `send` as test/support/dynamodb-faults.ts (shared by both client kinds)
 * and fires once: the action's own DynamoDB calls pass through untouched.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { operationOf, sendOwner } from './dynamodb-faults.ts';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand']);

/** The partition keys a write touches (each item of a transaction's). */
function partitionsOf(operation: string, input: any): string[] {
  if (operation !== 'TransactWriteItemsCommand') return [input?.Key?.PK ?? input?.Item?.PK];
  return (input?.TransactItems ?? []).map((entry: any) => {
    const item = Object.values(entry)[0] as any;
    return item?.Key?.PK ?? item?.Item?.PK;
  });
}

export interface Interleaving {
  /** Whether the action ran (the awaited write was reached). */
  readonly ran: () => boolean;
  /** The operations of the calls the action preceded (one). */
  readonly before: string[];
  restore(): void;
}

/**
 * Before the first write (PutItem, UpdateItem, DeleteItem or TransactWriteItems) of the
 * service's clients that touches partition `partition` (e.g. `ORG#12`), runs `action` and waits
 * for it; then sends the write. Clients in `ignore` (the test's own) are never intercepted.
 */
export function beforeFirstWriteTo(
  partition: string,
  action: () => Promise<unknown>,
  options: { ignore?: readonly object[] } = {},
): Interleaving {
  const owner = sendOwner();
  const original = owner.send!;
  const ignored = new Set(options.ignore ?? []);
  let fired = false;
  const before: string[] = [];
  const spy = vi.spyOn(owner, 'send').mockImplementation(async function (this: any, command: any, ...rest: any[]) {
    const isDynamoDb = this instanceof DynamoDBClient || this instanceof DynamoDBDocumentClient;
    const operation = operationOf(command);
    if (fired || !isDynamoDb || ignored.has(this) || !WRITES.has(operation) || !partitionsOf(operation, command.input).includes(partition)) {
      return original.call(this, command, ...rest);
    }
    fired = true;
    before.push(operation);
    await action();
    return original.call(this, command, ...rest);
  });
  return { ran: () => fired, before, restore: () => spy.mockRestore() };
}

/**
 * Before the first SES SendEmail to `address` from any client in this process (the handlers'
 * and the test's alike), runs `action` and waits for it; then sends. The sender has done all it
 * does before sending; the action's own emails pass through untouched (it fires once).
 */
export function beforeFirstEmailTo(address: string, action: () => Promise<unknown>): Interleaving {
  const owner = sendOwner();
  if (!Object.prototype.isPrototypeOf.call(owner, SESv2Client.prototype)) {
    throw new Error('SESv2Client no longer shares send() with the DynamoDB clients: update the interleaving');
  }
  const original = owner.send!;
  let fired = false;
  const before: string[] = [];
  const spy = vi.spyOn(owner, 'send').mockImplementation(async function (this: any, command: any, ...rest: any[]) {
    const operation = operationOf(command);
    const to: string[] = command?.input?.Destination?.ToAddresses ?? [];
    if (fired || !(this instanceof SESv2Client) || operation !== 'SendEmailCommand' || !to.includes(address)) {
      return original.call(this, command, ...rest);
    }
    fired = true;
    before.push(operation);
    await action();
    return original.call(this, command, ...rest);
  });
  return { ran: () => fired, before, restore: () => spy.mockRestore() };
}
