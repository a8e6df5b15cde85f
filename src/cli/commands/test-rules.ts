import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { runRuleTests } from '../../routing/rule-tests.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';
import { offlineRouter } from './route.js';

export { runRuleTests } from '../../routing/rule-tests.js';

export function register(program: Command): void {
  program
    .command('test')
    .description('Run rule unit tests (YAML: [{ name, event, expect: { routes, deliveries } }]) against the config\'s routes. Prints a line per case and "N passed, M failed"; exits 1 on failure. Touches no Redis and no sink.')
    .argument('[files...]', 'rule test files (default: rules.test.yaml next to the config, else examples/rules.test.yaml)')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .action(async (files: string[], opts: { config?: string }) => {
      const loaded = await loadValidatedConfig(resolveConfigPath(opts.config));
      const chosen = files.length ? files : [join(loaded.configDir, 'rules.test.yaml'), join(loaded.configDir, 'examples', 'rules.test.yaml')].filter((f) => existsSync(f)).slice(0, 1);
      if (chosen.length === 0) throw new InputError('rule_tests_missing', 'no rule test files: pass them as arguments, or create rules.test.yaml next to the config');
      const { router, close } = await offlineRouter(loaded);
      try {
        const { failed } = await runRuleTests(router, chosen, (line) => process.stdout.write(`${line}\n`));
        if (failed > 0) throw new InputError('rule_tests_failed', `${failed} rule test${failed === 1 ? '' : 's'} failed`);
      } finally {
        await close();
      }
    });
}

export { register as registerTest };
