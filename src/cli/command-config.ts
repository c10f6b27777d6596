/**
 * The start of every long-running command (`serve`, `worker`): `--help`,
 * argument errors and a bad environment are answered the same way, with
 * exit 0 for help and 2 for anything wrong, every config problem listed.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { ConfigError } from '../shared/errors.js';

/**
 * Parses `--help` and validates the environment.
 * @returns the frozen config, or the exit code to leave with.
 */
export function readCommandConfig(command: string, argv: string[], usage: string): Config | number {
  let help = false;
  try {
    help = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } }).values.help === true;
  } catch (err) {
    process.stderr.write(`undertone ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (help) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`undertone ${command}: invalid configuration\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
      return 2;
    }
    throw err;
  }
}
