/**
 * The whole test table, for "nothing was written" assertions: a consistent Scan of every item,
 * sorted by key so that two snapshots compare with toEqual. Each test file has its own table, so
 * only the file's own (sequential) tests can change it.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TestStack } from './stack.ts';

export type StoredItem = Record<string, any>;

export async function scanTable(stack: TestStack): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  let startKey: Record<string, any> | undefined;
  do {
    const page = await stack.db.send(
      new ScanCommand({ TableName: stack.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => compare(String(a.PK), String(b.PK)) || compare(String(a.SK), String(b.SK)));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The items of one organization's partition (`ORG#<id>`) in a snapshot. */
export function partitionOf(items: readonly StoredItem[], orgId: number): StoredItem[] {
  return items.filter((item) => item.PK === `ORG#${orgId}`);
}
