/**
 * One Lambda function of the service: bundled locally with esbuild (never Docker) as minified ESM
 * with the AWS SDK inside and a source map, Node.js 24 on arm64, its own log group with a
 * retention, and its own role that starts with nothing but writing to that log group (no AWS
 * managed policy). Callers add exactly the permissions the function needs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * The repository's lock file; absent when the code is an installed package (npm never packs
 * package-lock.json): CDK then finds the app's own lock file from the working directory and takes
 * its folder as the project root, where esbuild resolves the handlers' dependencies.
 */
const LOCK_FILE = join(REPO_ROOT, 'package-lock.json');
const PROJECT = existsSync(LOCK_FILE) ? { projectRoot: REPO_ROOT, depsLockFilePath: LOCK_FILE } : {};

/**
 * esbuild's ESM output keeps CommonJS dependencies' `require` calls (Node built-ins) working
 * through this shim; without it they fail with "Dynamic require of ... is not supported".
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __cjsCreateRequire } from 'node:module';const require = __cjsCreateRequire(import.meta.url);";

/** How every function is bundled; the benchmark (bench/) builds with exactly these options. */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  bundleAwsSDK: true,
  externalModules: [],
  forceDockerBundling: false,
};

export interface ServiceFunctionProps {
  /** Handler file relative to the repository root (exports `handler`). */
  readonly entry: string;
  readonly functionName: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Files (absolute paths) copied next to the bundle, read at run time from LAMBDA_TASK_ROOT. */
  readonly bundledFiles?: readonly string[];
}

export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: only what this function needs`,
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group in the account): this log group only.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      ...PROJECT,
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        // Stack traces in the logs point at the TypeScript sources (the map is read at cold start;
        // sourcesContent is left out to keep it small).
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: props.bundledFiles?.length
        ? {
            ...BUNDLING,
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (_inputDir: string, outputDir: string) => props.bundledFiles!.map((file) => `cp "${file}" "${outputDir}"`),
            },
          }
        : BUNDLING,
    });
  }
}
