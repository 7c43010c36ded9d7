/**
 * The DynamoDB calls one API request costs, counted by the benchmark's SDK meter (which the test
 * file installs with installDynamoDbMeter() before its stack starts).
 */
import { randomUUID } from 'node:crypto';
import { meterReading, setMeterLabel } from '../../bench/dynamodb-meter.ts';
import type { ApiResponse } from './stack.ts';

/** The response and the DynamoDB calls (by command) the request cost. */
export async function metered(request: () => Promise<ApiResponse>) {
  const label = `request-${randomUUID()}`;
  setMeterLabel(label);
  try {
    const response = await request();
    return { response, calls: meterReading(label).commands };
  } finally {
    setMeterLabel(undefined);
  }
}
