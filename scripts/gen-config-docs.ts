// Writes docs/configuration.md and schema/config.schema.json from the config schemas (npm run docs:config).
import { mkdirSync, writeFileSync } from 'node:fs';
import { renderConfigJsonSchema } from '../src/config/config-json-schema.js';
import { renderConfigReference } from '../src/config/config-reference.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigReference());
console.log('wrote docs/configuration.md');
mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/config.schema.json', import.meta.url), renderConfigJsonSchema());
console.log('wrote schema/config.schema.json');
