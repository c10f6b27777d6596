/**
 * `undertone token --role agent --sub agent-ana [--ttl 3600]`: prints a JWT
 * signed with JWT_SECRET, for operators wiring softphones, dashboards and
 * gateways (and for trying the service by hand).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { ROLES, signToken, type Role } from '../http/auth/tokens.js';
import { ConfigError } from '../shared/errors.js';

const USAGE = `usage: undertone token --role ROLE --sub ID [--ttl SECONDS]

Prints an HS256 JWT signed with JWT_SECRET (from the environment).
  --role   one of ${ROLES.join(', ')}
  --sub    the principal's id; for role agent, the agent id it may listen as
  --ttl    lifetime in seconds (default 3600)
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { role: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string', default: '3600' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const role = values.role as Role | undefined;
  const ttlS = Number(values.ttl);
  if (!role || !(ROLES as readonly string[]).includes(role) || !values.sub || !(ttlS > 0)) {
    process.stderr.write(`undertone token: --role (${ROLES.join('|')}), --sub and a positive --ttl are required\n\n${USAGE}`);
    return 2;
  }
  let secret: string;
  try {
    secret = loadConfig(process.env).jwtSecret;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`undertone token: invalid configuration\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
      return 2;
    }
    throw err;
  }
  if (secret === '') {
    process.stderr.write('undertone token: JWT_SECRET is not set\n');
    return 2;
  }
  process.stdout.write(`${signToken(secret, { sub: values.sub, role }, ttlS * 1000)}\n`);
  return 0;
}
