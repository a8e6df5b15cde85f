import type { Command } from 'commander';
import { renderConfigJsonSchema } from '../../config/config-json-schema.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema (2020-12) of the config file, for editors and CI: the same as schema/config.schema.json.')
    .action(() => {
      process.stdout.write(renderConfigJsonSchema());
    });
}
