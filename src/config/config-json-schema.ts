import { z } from 'zod';
import { acceptEnvPlaceholders, ENV_PLACEHOLDER_DEFS, type JsonSchemaNode } from './env-placeholder-schema.js';
import { configSchema } from './schema.js';

/**
 * The schema's identifier. A URN rather than a URL: the schema is not served from anywhere; editors
 * find it through the file's `# yaml-language-server: $schema=…` line (schema/config.schema.json).
 */
export const CONFIG_SCHEMA_ID = 'urn:moments-bridge:config';

/**
 * The JSON Schema (2020-12) of a config file as written, before `${VAR}` interpolation: what
 * `moments-bridge schema` prints and schema/config.schema.json holds (`npm run docs:config`).
 * Secret fields carry the `x-secret: true` annotation.
 */
export function configJsonSchema(): JsonSchemaNode {
  const { $schema, ...body } = z.toJSONSchema(configSchema(), { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchemaNode;
  return { $schema, $id: CONFIG_SCHEMA_ID, title: 'moments-bridge configuration', ...acceptEnvPlaceholders(body), $defs: ENV_PLACEHOLDER_DEFS };
}

/** The schema as committed in schema/config.schema.json and printed by `moments-bridge schema`. */
export function renderConfigJsonSchema(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}
