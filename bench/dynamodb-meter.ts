/**
 * Counts DynamoDB calls and consumed capacity per request, with SDK middleware: every DynamoDB
 * client in this process (the handlers' included) gets a middleware that asks for
 * ReturnConsumedCapacity=TOTAL and records the command and its capacity under the current label.
 * An observer (`observeDynamoDbCommands`) also sees each command and its input as sent; the
 * permission test (test/infra/permissions.test.ts) uses it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface MeterReading {
  calls: number;
  readCapacity: number;
  writeCapacity: number;
  /** Items Query and Scan calls evaluated (ScannedCount), whatever they returned. */
  itemsRead: number;
  commands: Record<string, number>;
}

let label: string | undefined;
/** Gets the low-level command name ('TransactWriteItemsCommand') and its input, before each call. */
export type DynamoDbCommandObserver = (commandName: string, input: Record<string, any>) => void;
let observer: DynamoDbCommandObserver | undefined;
const readings = new Map<string, MeterReading>();
const instrumented = new WeakSet<object>();

export function setMeterLabel(next: string | undefined) {
  label = next;
}

export function observeDynamoDbCommands(next: DynamoDbCommandObserver | undefined) {
  observer = next;
}

export function meterReading(name: string): MeterReading {
  return readings.get(name) ?? { calls: 0, readCapacity: 0, writeCapacity: 0, itemsRead: 0, commands: {} };
}

/** Installs the middleware on every DynamoDB client that sends a command from now on. */
export function installDynamoDbMeter() {
  // The document client shares its middleware stack with the DynamoDBClient it wraps and sends
  // through the shared Smithy client; patch there, once per stack.
  const base = Object.getPrototypeOf(DynamoDBClient.prototype) as { send: (...args: unknown[]) => unknown };
  const originalSend = base.send;
  base.send = function (this: { middlewareStack: any; config?: { serviceId?: string } }, ...args: unknown[]) {
    if (this.config?.serviceId === 'DynamoDB' && !instrumented.has(this.middlewareStack)) {
      instrumented.add(this.middlewareStack);
      this.middlewareStack.add(
        (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
          if (args.input && typeof args.input === 'object') args.input.ReturnConsumedCapacity ??= 'TOTAL';
          observer?.(context.commandName ?? 'unknown', args.input ?? {});
          const result = await next(args);
          record(context.commandName ?? 'unknown', result.output?.ConsumedCapacity, result.output?.ScannedCount);
          return result;
        },
        { step: 'initialize', name: 'benchDynamoDbMeter' },
      );
    }
    return originalSend.apply(this, args);
  };
}

function record(command: string, consumed: unknown, scanned: unknown) {
  if (!label) return;
  const reading = readings.get(label) ?? { calls: 0, readCapacity: 0, writeCapacity: 0, itemsRead: 0, commands: {} };
  reading.calls++;
  if (typeof scanned === 'number') reading.itemsRead += scanned;
  reading.commands[command] = (reading.commands[command] ?? 0) + 1;
  for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    const { ReadCapacityUnits = 0, WriteCapacityUnits = 0, CapacityUnits = 0 } = entry as Record<string, number>;
    if (ReadCapacityUnits || WriteCapacityUnits) {
      reading.readCapacity += ReadCapacityUnits;
      reading.writeCapacity += WriteCapacityUnits;
    } else if (/Put|Update|Delete|Write/.test(command)) reading.writeCapacity += CapacityUnits;
    else reading.readCapacity += CapacityUnits;
  }
  readings.set(label, reading);
}
