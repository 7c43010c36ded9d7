/**
 * The permission checker of test/infra/permissions.test.ts: what a DynamoDB call needs in IAM,
 * what the synthesized template grants a function's role, and the difference.
 *
 * Permissions are written `<action> <resource>` with the resource relative to the table:
 * `dynamodb:GetItem table`, `dynamodb:Query index/GSI1`.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOfType, roleStatements } from './helpers.ts';

/** The IAM permissions one DynamoDB call needs (`commandName` as the SDK names it: 'GetItemCommand'). */
export function requiredPermissions(commandName: string, input: Record<string, any>): string[] {
  const operation = commandName.replace(/Command$/, '');
  const on = (table: unknown, index?: unknown) => (index ? `index/${String(index)}` : 'table');
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(input.RequestItems ?? {}).map(() => `dynamodb:${operation} table`);
    case 'TransactWriteItems':
      return (input.TransactItems ?? []).map((item: Record<string, unknown>) => {
        const [kind] = Object.keys(item).filter((key) => item[key] !== undefined);
        const action = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[kind!];
        if (!action) throw new Error(`unknown transaction item ${kind}`);
        return `dynamodb:${action} table`;
      });
    case 'TransactGetItems':
      return (input.TransactItems ?? []).map(() => 'dynamodb:GetItem table');
    default:
      return [`dynamodb:${operation} ${on(input.TableName, input.IndexName)}`];
  }
}

/**
 * The DynamoDB permissions on the table and its indexes that the template grants the role of the
 * function named `functionName` (stream and other resources are left out).
 */
export function grantedPermissions(template: Template, functionName: string, tableLogicalId: string): Set<string> {
  const functions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).filter(
    (fn) => fn.Properties.FunctionName === functionName,
  );
  if (functions.length !== 1) throw new Error(`expected one function named ${functionName}, found ${functions.length}`);
  const roleRef = functions[0]!.Properties.Role as { 'Fn::GetAtt'?: [string, string] };
  const roleLogicalId = roleRef['Fn::GetAtt']?.[0];
  if (!roleLogicalId) throw new Error(`${functionName}: role is not a GetAtt of a role in the template`);
  const granted = new Set<string>();
  for (const statement of roleStatements(template, roleLogicalId)) {
    if (statement.Effect !== 'Allow' || statement.Condition) continue;
    const actions = (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).filter((a) => a.startsWith('dynamodb:'));
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources) {
      const relative = tableResource(resource, tableLogicalId);
      if (!relative) continue;
      for (const action of actions) granted.add(`${action} ${relative}`);
    }
  }
  return granted;
}

/** 'table', 'index/<name>', or undefined for anything else (the stream, other services). */
function tableResource(resource: unknown, tableLogicalId: string): string | undefined {
  const isTableArn = (value: unknown) => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'];
    return getAtt?.[0] === tableLogicalId && getAtt[1] === 'Arn';
  };
  if (isTableArn(resource)) return 'table';
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  if (join && join[0] === '' && join[1].length === 2 && isTableArn(join[1][0]) && typeof join[1][1] === 'string') {
    const index = /^\/index\/([\w.-]+)$/.exec(join[1][1]);
    if (index) return `index/${index[1]}`;
  }
  if (JSON.stringify(resource).includes(tableLogicalId) && !JSON.stringify(resource).includes('StreamArn')) {
    throw new Error(`unrecognized table resource ${JSON.stringify(resource)}`);
  }
  return undefined;
}

export interface PermissionReport {
  /** `<function>: <permission> (<call>)` needed by a driven call but not granted. */
  readonly missing: string[];
  /** `<function>: <permission>` granted but needed by no driven call. */
  readonly unused: string[];
}

/** Compares what each function's calls needed (by function id) with what its role is granted. */
export function comparePermissions(
  needed: ReadonlyMap<string, ReadonlyMap<string, string>>,
  granted: ReadonlyMap<string, ReadonlySet<string>>,
): PermissionReport {
  const missing: string[] = [];
  const unused: string[] = [];
  for (const [fnId, grants] of granted) {
    const calls = needed.get(fnId) ?? new Map<string, string>();
    for (const [permission, example] of calls) if (!grants.has(permission)) missing.push(`${fnId}: ${permission} (needed by ${example})`);
    for (const permission of grants) if (!calls.has(permission)) unused.push(`${fnId}: ${permission}`);
  }
  for (const fnId of needed.keys()) if (!granted.has(fnId)) missing.push(`${fnId}: calls DynamoDB but is not a known function`);
  return { missing: missing.sort(), unused: unused.sort() };
}
