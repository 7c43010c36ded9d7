/**
 * A CDK app of your own that embeds the service: two InvitationsService instances (say, two
 * products with their own users and senders) in one stack, beside a resource of the app's own
 * (the SNS topic both send their alarms to), with cdk-nag's AWS Solutions checks.
 *
 *   npx tsx examples/embed/app.ts          (or "app": "npx tsx app.ts" in your cdk.json)
 *
 * It imports the package by its name, as your app does once it is installed; test/infra/embed.test.ts
 * synthesizes it here and, installed from the `npm pack` tarball, in a folder of its own.
 */
import { App, Stack, Validations, type AppProps, type StackProps } from 'aws-cdk-lib';
import { DomainName } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { InvitationsService } from 'jaqpot-organization-invitations';
import { pathToFileURL } from 'node:url';

export class ProductsStack extends Stack {
  readonly alarms: sns.Topic;
  readonly models: InvitationsService;
  readonly datasets: InvitationsService;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // The app's own resource: one topic for the alarms of both services.
    this.alarms = new sns.Topic(this, 'OpsAlarms', { displayName: 'Product alarms', enforceSSL: true });

    const common = {
      jwtIssuer: 'https://auth.example.org/realms/products',
      jwtJwksUri: 'https://auth.example.org/realms/products/protocol/openid-connect/certs',
      alarmTopic: this.alarms,
      removalPolicy: 'destroy',
      deletionProtection: false,
    } as const;

    // Physical names from the construct path (no namePrefix): two instances never clash.
    this.models = new InvitationsService(this, 'ModelsInvitations', {
      ...common,
      jwtAudience: 'models-frontend',
      senderEmail: 'invitations@models.example.org',
      frontendUrl: 'https://models.example.org',
      metricsNamespace: 'ModelsInvitations',
    });

    // An explicit prefix, and the API on an existing custom domain of the app.
    const domainName = new DomainName(this, 'DatasetsApiDomain', {
      domainName: 'invitations.datasets.example.org',
      certificate: Certificate.fromCertificateArn(
        this,
        'DatasetsCertificate',
        'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      ),
    });
    this.datasets = new InvitationsService(this, 'DatasetsInvitations', {
      ...common,
      namePrefix: 'DatasetsInvitations',
      jwtAudience: ['datasets-frontend', 'datasets-cli'],
      senderEmail: 'invitations@datasets.example.org',
      frontendUrl: 'https://datasets.example.org',
      metricsNamespace: 'DatasetsInvitations',
      invitationExpirySeconds: 3 * 24 * 3600,
      domain: { domainName },
    });
  }
}

/** The app: the stack with cdk-nag's AWS Solutions checks (a finding without an acknowledgement fails the synth). */
export function buildApp(props: AppProps = {}): { app: App; stack: ProductsStack } {
  const app = new App(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stack = new ProductsStack(app, 'Products', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { app, stack };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) buildApp().app.synth();
