/**
 * Prints a signed JWT that the local API accepts:
 *   npm run -s token -- --sub alice --email alice@example.com [--username alice] [--unverified] [--admin] [--expires-in 3600]
 */
import { parseArgs } from 'node:util';
import { LocalIssuer } from './issuer.ts';

// parseArgs reads "-60" as an option; glue negative numbers to their flag ("--expires-in=-60").
const args: string[] = [];
for (const arg of process.argv.slice(2)) {
  if (/^-\d+$/.test(arg) && args.at(-1) === '--expires-in') args.push(`${args.pop()}=${arg}`);
  else args.push(arg);
}
const { values } = parseArgs({
  args,
  options: {
    sub: { type: 'string' },
    email: { type: 'string' },
    username: { type: 'string' },
    unverified: { type: 'boolean', default: false },
    admin: { type: 'boolean', default: false },
    'expires-in': { type: 'string', default: '3600' },
  },
});

if (!values.sub) {
  console.error(
    'usage: npm run -s token -- --sub <id> --email <email> [--username <name>] [--unverified] [--admin] [--expires-in <seconds, may be negative>]',
  );
  process.exit(2);
}
const expiresIn = Number(values['expires-in']);
if (!Number.isInteger(expiresIn)) {
  console.error('--expires-in must be an integer number of seconds');
  process.exit(2);
}

const token = LocalIssuer.fromFile().token({
  sub: values.sub,
  email: values.email,
  emailVerified: !values.unverified,
  username: values.username,
  realmRoles: values.admin ? ['admin', 'default-roles-jaqpot'] : undefined,
  expiresIn,
});
process.stdout.write(`${token}\n`);
