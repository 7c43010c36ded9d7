/** Builds the CDK app for the infra tests (not a test file itself: vitest only runs *.test.ts). */
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp, type BuiltApp } from '../../infra/build.ts';

const cdkJson = JSON.parse(readFileSync(fileURLToPath(new URL('../../cdk.json', import.meta.url)), 'utf8')) as {
  context: Record<string, unknown>;
};

/** The context defaults from cdk.json: the tests run against what `npm run synth` uses. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({ ...cdkJson.context });

export interface Synthesized extends BuiltApp {
  readonly template: Template;
}

/**
 * The app with cdk.json's context plus `overrides`, without bundling any function (fast).
 * Synthesizes the whole app, which runs the cdk-nag validation plugin: unacknowledged findings throw.
 */
export function synth(overrides: Record<string, unknown> = {}, options: { bundle?: boolean; outdir?: string } = {}): Synthesized {
  const built = buildApp({
    outdir: options.outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...overrides,
    },
  });
  built.app.synth();
  return { ...built, template: Template.fromStack(built.stack) };
}

export type Resource = { Type: string; Properties: Record<string, any>; [key: string]: unknown };

export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(built: BuiltApp, construct: { node: { defaultChild?: unknown } }): string {
  return built.stack.getLogicalId(construct.node.defaultChild as never);
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
  Condition?: unknown;
}

/** Every statement of every policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const statements: PolicyStatementJson[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as Array<{ Ref?: string }>;
    if (!roles.some((role) => role.Ref === roleLogicalId)) continue;
    statements.push(...(policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]));
  }
  const role = template.toJSON().Resources[roleLogicalId] as Resource;
  for (const inline of (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: PolicyStatementJson[] } }>) {
    statements.push(...inline.PolicyDocument.Statement);
  }
  return statements;
}

export function actionsOf(statements: PolicyStatementJson[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}
