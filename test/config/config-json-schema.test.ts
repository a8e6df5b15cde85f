import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_ID, renderConfigJsonSchema } from '../../src/config/config-json-schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const schemaFile = join(root, 'schema/config.schema.json');
const committed = readFileSync(schemaFile, 'utf8');
const schema = JSON.parse(committed) as Record<string, unknown>;

/** The keywords of JSON Schema 2020-12 (core, applicator, validation, unevaluated, meta-data, format, content). */
const STANDARD = new Set(
  (
    '$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs ' +
    'allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties additionalProperties propertyNames ' +
    'unevaluatedItems unevaluatedProperties type const enum multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern ' +
    'maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired ' +
    'title description default deprecated readOnly writeOnly examples format contentEncoding contentMediaType contentSchema'
  ).split(' '),
);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas']);
const DATA = new Set(['default', 'const', 'enum', 'examples']);

/** Every keyword used anywhere in the schema (property names and data values excluded). */
function keywords(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) keywords(item, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      out.add(k);
      if (SCHEMA_MAPS.has(k)) for (const sub of Object.values(v as object)) keywords(sub, out);
      else if (!DATA.has(k)) keywords(v, out);
    }
  }
  return out;
}

/** Config files: config.example.yaml and examples/*.yaml, except rule test files (`*.test.yaml`, another format). */
const configFiles = [
  'config.example.yaml',
  ...readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
    .map((f) => `examples/${f}`),
];

let validate: ValidateFunction;
beforeAll(() => {
  // strict: an unknown keyword, an ignored format or a mistyped keyword throws at compile time;
  // x-secret is declared as an annotation-only vocabulary keyword. Union types (`type: [a, b]`) are
  // standard; ajv's strict mode only lints them.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false });
  ajv.addVocabulary(['x-secret']);
  validate = ajv.compile(schema);
});

function errorsOf(config: unknown): string[] {
  return validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('schema/config.schema.json', () => {
  it('is what `moments-bridge schema` prints for the current zod schemas (run `npm run docs:config` after changing a schema)', () => {
    expect(committed).toBe(renderConfigJsonSchema());
  });

  it('is a JSON Schema 2020-12 with an $id, compiled in strict mode against the meta-schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
    expect(validate).toBeTypeOf('function');
  });

  it('uses standard keywords only, secrets marked with the x-secret annotation', () => {
    const used = keywords(schema);
    expect([...used].filter((k) => !STANDARD.has(k) && !k.startsWith('x-'))).toEqual([]);
    expect(used.has('x-secret')).toBe(true);
    const props = (schema.properties as Record<string, { properties: Record<string, Record<string, unknown>> }>).redis.properties;
    expect(props.password!['x-secret']).toBe(true);
    expect(props.url!['x-secret']).toBeUndefined();
  });

  it.each(configFiles)('%s names the committed schema for editors and validates against it', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    expect(line, `${file} has no "# yaml-language-server: $schema=…" line`).not.toBeNull();
    expect(resolve(dirname(join(root, file)), line![1]!)).toBe(schemaFile);
    expect(errorsOf(parse(text))).toEqual([]);
  });

  it('covers the demo config', () => {
    expect(configFiles).toContain('examples/demo.yaml');
  });
});

describe('the config JSON Schema', () => {
  const base = { sources: { calls: { type: 'observer', url: 'wss://observer.example.com/ws', accessToken: 't' } } };
  const observer = (extra: Record<string, unknown>) => ({ sources: { calls: { ...base.sources.calls, ...extra } } });

  it.each<[string, unknown]>([
    ['an ${VAR:-default} in a URL with a pattern', observer({ url: '${OBSERVER_URL:-wss://observer.example.com/ws}' })],
    ['a ${VAR} inside a longer URL', observer({ url: 'wss://${OBSERVER_HOST}/ws' })],
    ['a whole ${VAR} for an integer', { server: { port: '${PORT}' } }],
    ['a ${VAR:-default} for a boolean', { redis: { cluster: '${REDIS_CLUSTER:-false}' } }],
    ['a ${VAR} for an enum', { log: { level: '${LOG_LEVEL:-info}' } }],
    ['a ${VAR} for a duration', { shutdown: { grace: '${GRACE:-10s}' } }],
    ['a ${VAR} for a format: uri field', { connectors: { hooks: { type: 'webhook', url: '${WEBHOOK_URL}', secret: '${WEBHOOK_SECRET}' } } }],
    ['a secret from a file', { redis: { password: { file: '/run/secrets/redis' } } }],
  ])('accepts %s', (_what, config) => {
    expect(errorsOf(config)).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown top-level key', { ...base, redsi: {} }, /must NOT have additional properties/],
    ['a misspelt key in a section', { redis: { ulr: 'redis://x' } }, /must NOT have additional properties/],
    ['a port that is text', { server: { port: 'abc' } }, /\/server\/port must be integer/],
    ['a port out of range', { server: { port: 70000 } }, /\/server\/port must be <= 65535/],
    ['a boolean that is text without a placeholder', { redis: { cluster: 'yes' } }, /\/redis\/cluster must be boolean/],
    ['a level not in the enum', { log: { level: 'loud' } }, /\/log\/level must be equal to one of the allowed values/],
    ['an observer URL that is not ws(s)', observer({ url: 'http://observer.example.com' }), /\/sources\/calls\/url must match pattern/],
    ['a half-written placeholder', observer({ url: '${OBSERVER_URL' }), /\/sources\/calls\/url must match pattern/],
    ['a placeholder inside a longer number', { server: { port: '94${X}' } }, /\/server\/port must be integer/],
    ['an unknown source type', { sources: { calls: { type: 'obsrver' } } }, /\/sources\/calls/],
    ['a route without `to`', { routes: [{ name: 'r' }] }, /must have required property 'to'/],
  ])('rejects %s', (_what, config, message) => {
    const errors = errorsOf(config);
    expect(errors.join('\n')).toMatch(message);
  });
});
