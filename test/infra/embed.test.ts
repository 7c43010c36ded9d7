/**
 * The construct embedded as a user would: examples/embed/app.ts (two InvitationsService instances
 * beside a topic of the app's own, cdk-nag's AWS Solutions checks) synthesized here, importing the
 * package by its name; and the same app in a folder of its own with the package installed from
 * the `npm pack` tarball, run as a CDK app (tsx), functions bundled for real.
 */
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../examples/embed/app.ts';
import { ESM_REQUIRE_SHIM } from '../../infra/service-function.ts';
import { eventFunctions, routes } from '../../shared/deployment/routes.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE_NAME = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string }).name;
// + the authorizer, the event functions and the event pipe's enrichment (infra/events.ts).
const FUNCTIONS_PER_INSTANCE = routes.length + 1 + Object.keys(eventFunctions).length + 1;

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, string> }>;

function ofType(resources: Resources, type: string) {
  return Object.values(resources).filter((resource) => resource.Type === type);
}

/** Every explicit physical name in the template, by resource type. */
function physicalNames(resources: Resources): string[] {
  const nameProperty: Record<string, string> = {
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::ApiGatewayV2::Api': 'Name',
    'AWS::Events::EventBus': 'Name',
    'AWS::Pipes::Pipe': 'Name',
    'AWS::DynamoDB::GlobalTable': 'TableName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::SES::ConfigurationSet': 'Name',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::SecretsManager::Secret': 'Name',
    'AWS::IAM::Role': 'RoleName',
  };
  return Object.values(resources).flatMap((resource) => {
    const key = nameProperty[resource.Type];
    const name = key && resource.Properties?.[key];
    return name === undefined ? [] : [`${resource.Type} ${JSON.stringify(name)}`];
  });
}

/** What both tests check of the app's template: two of everything, no name twice, alarms to the app's topic. */
function expectTwoIndependentServices(resources: Resources) {
  expect(ofType(resources, 'AWS::DynamoDB::GlobalTable')).toHaveLength(2);
  expect(ofType(resources, 'AWS::ApiGatewayV2::Api')).toHaveLength(2);
  expect(ofType(resources, 'AWS::Events::EventBus')).toHaveLength(2);
  expect(ofType(resources, 'AWS::Lambda::Function')).toHaveLength(2 * FUNCTIONS_PER_INSTANCE);
  const names = physicalNames(resources);
  expect(names.length).toBeGreaterThanOrEqual(2 * (FUNCTIONS_PER_INSTANCE + 3));
  expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  // The app's own topic, and only it, gets the alarms of both services.
  const topics = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::SNS::Topic');
  const opsTopic = topics.find(([, resource]) => resource.Properties?.DisplayName === 'Product alarms')![0];
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
  expect(alarms.length).toBeGreaterThan(2 * FUNCTIONS_PER_INSTANCE);
  for (const alarm of alarms) expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: opsTopic }]);
}

describe('embedded in an app of its own (examples/embed/app.ts)', () => {
  let app: ReturnType<typeof buildApp>['app'];
  let stack: ReturnType<typeof buildApp>['stack'];
  let resources: Resources;

  beforeAll(() => {
    ({ app, stack } = buildApp({ context: { 'aws:cdk:bundling-stacks': [] } }));
    // Synthesizing runs the cdk-nag plugin the example adds: an unacknowledged finding throws here.
    app.synth();
    resources = Template.fromStack(stack).toJSON().Resources as Resources;
  });

  it('synthesizes with cdk-nag clean', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
    // Only the service's own acknowledgements (each instance's four), nothing the app had to add.
    const acknowledged = stack.node
      .findAll()
      .flatMap((construct: IConstruct) => construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY));
    expect(acknowledged).toHaveLength(8);
  });

  it('holds two services with their own tables, APIs, buses and functions, and no physical name twice', () => {
    expectTwoIndependentServices(resources);
    expect(stack.models.config.namePrefix).not.toBe(stack.datasets.config.namePrefix);
    expect(stack.datasets.config.namePrefix).toBe('DatasetsInvitations');
  });

  it('exposes what the app wires further: URL (on the custom domain), table, bus, functions, alarm topic', () => {
    const [domain] = Object.entries(resources).find(([, resource]) => resource.Type === 'AWS::ApiGatewayV2::DomainName')!;
    expect(stack.resolve(stack.datasets.url)).toEqual({ 'Fn::Join': ['', ['https://', { Ref: domain }, '/']] });
    expect(stack.resolve(stack.models.url)).toEqual(stack.resolve(stack.models.stage.url));
    expect(stack.models.table).not.toBe(stack.datasets.table);
    expect(stack.resolve(stack.models.eventBus.eventBusName)).not.toEqual(stack.resolve(stack.datasets.eventBus.eventBusName));
    expect(stack.models.functions.size).toBe(FUNCTIONS_PER_INSTANCE);
    expect(stack.models.alarmTopic).toBe(stack.alarms);
    expect(ofType(resources, 'AWS::ApiGatewayV2::ApiMapping')).toHaveLength(1);
  });
});

describe('installed from the npm pack tarball', () => {
  let work: string;
  let resources: Resources;
  let outdir: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'invitations-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' })) as Array<{ filename: string }>;
    const tarball = join(work, packed[0]!.filename);

    // A user's project: the package from the tarball (as npm would unpack it) and, offline, the
    // dependencies npm would install (aws-cdk-lib, constructs, cdk-nag, tsx, esbuild and the
    // package's own dependencies) linked from this repository's node_modules.
    const project = join(work, 'app');
    const modules = join(project, 'node_modules');
    mkdirSync(modules, { recursive: true });
    const repoModules = realpathSync(join(REPO, 'node_modules'));
    for (const entry of readdirSync(repoModules)) {
      if (entry !== PACKAGE_NAME) symlinkSync(join(repoModules, entry), join(modules, entry));
    }
    const installed = join(modules, PACKAGE_NAME);
    mkdirSync(installed);
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'products', private: true, type: 'module', dependencies: { [PACKAGE_NAME]: `file:${tarball}` } }),
    );
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'products', lockfileVersion: 3, requires: true, packages: {} }));
    cpSync(join(REPO, 'examples/embed/app.ts'), join(project, 'app.ts'));

    outdir = join(work, 'cdk.out');
    execFileSync(join(modules, '.bin', 'tsx'), ['app.ts'], {
      cwd: project,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-asset-metadata': true }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    resources = (JSON.parse(readFileSync(join(outdir, 'Products.template.json'), 'utf8')) as { Resources: Resources }).Resources;
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the sources the construct and its bundling need, and no tests or local tooling', () => {
    const installed = join(work, 'app', 'node_modules', PACKAGE_NAME);
    for (const path of ['infra/index.ts', 'infra/service.ts', 'shared/deployment/routes.ts', 'functions/authorizer.ts', 'package.json']) {
      expect(existsSync(join(installed, path)), path).toBe(true);
    }
    for (const path of ['test', 'local', 'bench', 'examples', 'package-lock.json']) expect(existsSync(join(installed, path)), path).toBe(false);
  });

  it('synthesizes the app with cdk-nag clean and every function bundled from the installed package', () => {
    expectTwoIndependentServices(resources);
    const functions = ofType(resources, 'AWS::Lambda::Function');
    for (const fn of functions) {
      const assetPath = fn.Metadata?.['aws:asset:path'];
      expect(assetPath, fn.Properties!.FunctionName).toBeDefined();
      const code = readFileSync(join(outdir, assetPath!, 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_SHIM), fn.Properties!.FunctionName).toBe(true);
    }
  });
});
