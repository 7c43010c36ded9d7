/** CDK app entry (cdk.json: `npx tsx infra/app.ts`). Configuration: see infra/config.ts and the README. */
import { buildApp } from './build.ts';
import { StackConfigError } from './config.ts';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
