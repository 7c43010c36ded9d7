/**
 * Builds the CDK app: configuration from context, the stack, and the AWS Solutions checks of
 * cdk-nag as a validation plugin (any finding that is not acknowledged, with its reason, fails
 * the synth). Shared by infra/app.ts (the CLI entry) and the tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStackConfig, type StackConfig } from './config.ts';
import { InvitationsStack, serviceProps } from './stack.ts';

export interface BuiltApp {
  readonly app: App;
  readonly config: StackConfig;
  readonly stack: InvitationsStack;
}

export function buildApp(props: AppProps = {}): BuiltApp {
  const app = new App(props);
  const tryGetContext = (key: string) => app.node.tryGetContext(key);
  // Validated here too, so that a bad stackName is reported (with everything else) before the stack exists.
  const config = loadStackConfig(tryGetContext);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stack = new InvitationsStack(app, config.namePrefix, {
    service: serviceProps(tryGetContext),
    description: 'Jaqpot-compatible organization invitations service (API Gateway, Lambda, DynamoDB, SES)',
  });
  return { app, config, stack };
}
