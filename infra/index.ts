/**
 * The package entry (package.json `exports`): the construct for your own CDK app. See the README,
 * "Use it in your own CDK app"; examples/embed/app.ts is a complete app.
 */
export { InvitationsService, type InvitationsServiceProps } from './service.ts';
export { CONTEXT_DEFAULTS, StackConfigError, type LogLevel, type RemovalPolicyName, type StackConfig } from './config.ts';
export type { ServiceFunction } from './service-function.ts';
export type { EventPublishing } from './events.ts';
