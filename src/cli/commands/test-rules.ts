import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import { runRuleTests } from '../../routing/rule-tests.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadOfflineConfig } from '../../config/load-offline-config.js';
import { printJson } from '../print-json.js';
import { offlineRouter } from './route.js';

export { runRuleTests } from '../../routing/rule-tests.js';

export function register(program: Command): void {
  program
    .command('test')
    .description(
      'Run rule unit tests (YAML: [{ name, event, expect: { routes, deliveries } }]) against the config\'s routes. Prints a line per case and "N passed, M failed"; exits 1 on failure. Touches no Redis and no sink, so unset connection settings and secrets get stand-ins (named on stderr).',
    )
    .argument('[files...]', 'rule test files (default: rules.test.yaml next to the config, else examples/rules.test.yaml)')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print one JSON document: { passed, failed, standIns, cases: [{ file, name, passed, problems }] }')
    .action(async (files: string[], opts: { config?: string; json?: boolean }) => {
      // Rule tests need the routes, not the credentials: secrets and URLs may be unset here.
      const { loaded, standIns } = await loadOfflineConfig(resolveConfigPath(opts.config), { keep: ['routes'], validate: true });
      if (standIns.length) process.stderr.write(`test: unset ${standIns.join(', ')}: stand-ins used (rule tests connect to nothing)\n`);
      const chosen = files.length
        ? files
        : [join(loaded.configDir, 'rules.test.yaml'), join(loaded.configDir, 'examples', 'rules.test.yaml')].filter((f) => existsSync(f)).slice(0, 1);
      if (chosen.length === 0)
        throw new InputError('rule_tests_missing', 'no rule test files: pass them as arguments, or create rules.test.yaml next to the config');
      const { router, close } = await offlineRouter(loaded);
      try {
        const { passed, failed, results } = await runRuleTests(router, chosen, (line) => (opts.json ? undefined : process.stdout.write(`${line}\n`)));
        if (opts.json)
          printJson({ passed, failed, standIns, cases: results.map((r) => ({ file: r.file, name: r.name, passed: r.passed, problems: r.problems })) });
        if (failed > 0) throw new InputError('rule_tests_failed', `${failed} rule test${failed === 1 ? '' : 's'} failed`);
      } finally {
        await close();
      }
    });
}

export { register as registerTest };
