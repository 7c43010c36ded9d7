/**
 * Builds the CDK app: configuration from context, the stack, and the AWS Solutions checks of
 * cdk-nag as a validation plugin (any finding that is not acknowledged, with its reason, fails
 * the synth). Shared by infra/app.ts (the CLI entry) and the tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStackConfig, type StackConfig } from './config.ts';
import { InvitationsStack } from './stack.ts';

export interface BuiltApp {
  readonly app: App;
  readonly config: StackConfig;
  readonly stack: InvitationsStack;
}

export function buildApp(props: AppProps = {}): BuiltApp {
  const app = new App(props);
  const config = loadStackConfig((key) => app.node.tryGetContext(key));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stack = new InvitationsStack(app, config.stackName, {
    config,
    description: 'Jaqpot-compatible organization invitations service (API Gateway, Lambda, DynamoDB, SES)',
  });
  return { app, config, stack };
}
