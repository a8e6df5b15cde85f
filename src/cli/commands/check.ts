import type { Command } from 'commander';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('Validate a config: schema, environment variables, references, templates and CEL conditions. Prints every problem as file:line:col  path  message.')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .action(async (opts: { config?: string }) => {
      const file = resolveConfigPath(opts.config);
      const { config } = await loadValidatedConfig(file);
      const count = (o: object) => Object.keys(o).length;
      process.stdout.write(
        `${file}: OK — ${count(config.sources)} source(s), ${count(config.connectors)} connector(s), ${config.routes.length} route(s)\n`,
      );
    });
}
