import { z } from 'zod';

export const moduleConfigSchema = z.strictObject({
  type: z.literal('module').describe('Loads your own connector from a JavaScript module (see docs/connectors.md).'),
  path: z.string().min(1).describe('Path of the module (`.js`/`.mjs`), relative to the config file.'),
  export: z.string().min(1).default('default').describe('Name of the export holding the ConnectorPlugin. @defaultValue default'),
  options: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The module's own settings, validated by its `configSchema`. Mark secrets there with `secretString()` so they are redacted."),
});
export type ModuleConfig = z.output<typeof moduleConfigSchema>;
