/**
 * InvitationsService's props: the context keys under the same names, validated by the same code
 * (infra/config.ts) with every problem in one error, defaults from the same place.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { loadStackConfig, StackConfigError } from '../../infra/config.ts';
import { InvitationsService, type InvitationsServiceProps } from '../../infra/service.ts';

const REQUIRED = {
  jwtIssuer: 'https://login.acme.test/realms/acme',
  jwtJwksUri: 'https://login.acme.test/realms/acme/protocol/openid-connect/certs',
  jwtAudience: 'acme-frontend',
  senderEmail: 'invitations@acme.test',
  frontendUrl: 'https://app.acme.test',
} satisfies InvitationsServiceProps;

function stack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Host');
}

function problemsOf(props: InvitationsServiceProps): { header: string; problems: string[] } {
  try {
    new InvitationsService(stack(), 'Invitations', props);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return { header: (error as Error).message.split('\n')[0]!, problems: (error as StackConfigError).problems };
  }
  throw new Error('expected the construct to refuse its props');
}

describe('InvitationsService props', () => {
  it('applies the same defaults as the context, with a name prefix from the construct path', () => {
    const service = new InvitationsService(stack(), 'Invitations', REQUIRED);
    const { namePrefix, ...config } = service.config;
    const { namePrefix: _, ...fromContext } = loadStackConfig((key) => (REQUIRED as Record<string, unknown>)[key]);
    expect(config).toEqual(fromContext);
    expect(namePrefix).toMatch(/^Host-Invitations-[0-9A-F]{8}$/);
  });

  it('lists every problem in one error naming the construct, namePrefix for stackName', () => {
    const { header, problems } = problemsOf({
      ...REQUIRED,
      namePrefix: '1 bad',
      jwtIssuer: 'http://login.acme.test',
      logRetentionDays: 2,
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
      alarmTopic: sns.Topic.fromTopicArn(stack(), 'Ops', 'arn:aws:sns:eu-west-1:123456789012:ops'),
    });
    expect(header).toBe('Invalid props of InvitationsService Host/Invitations:');
    expect(problems).toEqual([
      'alarmTopic and alarmTopicArn are both set: give one',
      expect.stringMatching(/^namePrefix must start with a letter/),
      'jwtIssuer must be an https URL, got "http://login.acme.test"',
      expect.stringMatching(/^logRetentionDays must be one of/),
    ]);
  });

  it('reports missing required props like missing context keys', () => {
    const { problems } = problemsOf({} as InvitationsServiceProps);
    expect(problems).toEqual(
      expect.arrayContaining(['jwtIssuer is required', 'jwtJwksUri is required', 'senderEmail is required', 'frontendUrl is required']),
    );
  });

  it('gives two instances without namePrefix different physical names', () => {
    const host = stack();
    new InvitationsService(host, 'First', REQUIRED);
    new InvitationsService(host, 'Second', { ...REQUIRED, senderEmail: 'invitations@other.acme.test' });
    const resources = Object.values(Template.fromStack(host).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
    const names = resources.flatMap((r) =>
      ['FunctionName', 'Name'].filter((key) => typeof r.Properties?.[key] === 'string').map((key) => `${r.Type} ${String(r.Properties[key])}`),
    );
    expect(names.filter((name) => name.startsWith('AWS::Lambda::Function')).length).toBeGreaterThan(40);
    expect(names.filter((name, i) => names.indexOf(name) !== i && !name.startsWith('AWS::ApiGatewayV2::Authorizer'))).toEqual([]);
  });
});
