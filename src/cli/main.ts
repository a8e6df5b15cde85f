import { Command, CommanderError } from 'commander';
import { ConfigLoadError } from '../config/load-config.js';
import { BridgeError, InputError, errorMessage } from '../core/errors.js';
import { redactSecrets } from '../core/secret-redaction.js';
import { registerBackfill } from './commands/backfill.js';
import { registerCheck } from './commands/check.js';
import { registerDemo } from './commands/demo.js';
import { register as registerDlq } from './commands/dlq.js';
import { registerReplay } from './commands/replay.js';
import { registerRoute } from './commands/route.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStatus } from './commands/status.js';
import { registerTap } from './commands/tap.js';
import { registerTest } from './commands/test-rules.js';
import { packageVersion } from './package-version.js';

/** Exit codes: 0 ok, 1 invalid input (config, rules, arguments), 2 runtime failure. */
export const EXIT_OK = 0;
export const EXIT_INVALID_INPUT = 1;
export const EXIT_RUNTIME = 2;

export function buildProgram(): Command {
  const program = new Command('moments-bridge')
    .description(
      'Routes Moments Engine and Observer events through YAML rules into a BullMQ queue and delivers them to Slack, PagerDuty, Google Sheets, Kinesis and webhooks.',
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerCheck(program);
  registerSchema(program);
  registerTest(program);
  registerRoute(program);
  registerDlq(program);
  registerTap(program);
  registerStatus(program);
  registerReplay(program);
  registerBackfill(program);
  registerSimulate(program);
  registerDemo(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; unknown commands and bad options are invalid input.
      return err.exitCode === 0 ? EXIT_OK : EXIT_INVALID_INPUT;
    }
    if (err instanceof ConfigLoadError) {
      process.stderr.write(`${redactSecrets(err.message)}\n`);
      return EXIT_INVALID_INPUT;
    }
    if (err instanceof InputError) {
      process.stderr.write(`moments-bridge: ${redactSecrets(err.message)}\n`);
      return EXIT_INVALID_INPUT;
    }
    const code = err instanceof BridgeError ? ` [${err.code}]` : '';
    process.stderr.write(`moments-bridge: ${redactSecrets(errorMessage(err))}${code}\n`);
    return EXIT_RUNTIME;
  }
}
