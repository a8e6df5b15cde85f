import type { Command } from 'commander';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';
import { InputError } from '../../errors.js';
import { probeMomentsSource } from '../../sources/moments/moments-probe.js';
import type { MomentsSourceConfig } from '../../sources/moments/source-config.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('Validate a config: schema, environment variables, references, templates and CEL conditions. Prints every problem as file:line:col  path  message.')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--online', 'also log in to every moments source and print the GraphQL document each operation will use, and where it came from (introspection or config); exit 1 when one cannot be built')
    .action(async (opts: { config?: string; online?: boolean }) => {
      const file = resolveConfigPath(opts.config);
      const { config } = await loadValidatedConfig(file);
      const count = (o: object) => Object.keys(o).length;
      process.stdout.write(
        `${file}: OK — ${count(config.sources)} source(s), ${count(config.connectors)} connector(s), ${config.routes.length} route(s)\n`,
      );
      if (!opts.online) return;
      const problems: string[] = [];
      for (const [name, source] of Object.entries(config.sources)) {
        if ((source as { type: string }).type !== 'moments') continue;
        const report = await probeMomentsSource(name, source as MomentsSourceConfig);
        process.stdout.write(`${report.lines.join('\n')}\n`);
        problems.push(...report.problems);
      }
      if (problems.length) throw new InputError('moments_documents_unusable', problems.join('\n'));
    });
}
