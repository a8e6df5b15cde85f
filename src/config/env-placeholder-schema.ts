import { ENV_PLACEHOLDER_SOURCE } from './interpolate.js';

/** A JSON Schema node, as z.toJSONSchema writes it. */
export type JsonSchemaNode = { [keyword: string]: unknown };

/** The `$defs` the rewritten schema refers to; add them to the root. */
export const ENV_PLACEHOLDER_DEFS = {
  envWhole: {
    type: 'string',
    pattern: `^${ENV_PLACEHOLDER_SOURCE}$`,
    description: 'A plain ${VAR} or ${VAR:-default}: after interpolation it becomes a number or boolean when its whole text is one.',
  },
  envInterpolated: {
    type: 'string',
    pattern: ENV_PLACEHOLDER_SOURCE,
    description: 'Text with ${VAR} or ${VAR:-default} in it: checked once interpolated (`moments-bridge check`).',
  },
} as const;

const WHOLE = { $ref: '#/$defs/envWhole' };
const INTERPOLATED = { $ref: '#/$defs/envInterpolated' };

/** Keywords whose values are data, not subschemas. */
const DATA_KEYWORDS = new Set([
  'default',
  'const',
  'enum',
  'examples',
  'required',
  'type',
  'pattern',
  'format',
  '$schema',
  '$id',
  '$ref',
  'description',
  'title',
]);
/** Keywords whose value maps names to subschemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas']);
/** Keywords that describe a value rather than constrain it: they stay on the outer node. */
const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment']);
/** String keywords a `${VAR}` could fail before interpolation. */
const STRING_CONSTRAINTS = ['pattern', 'format', 'enum', 'maxLength'];
/** `${A}` is 4 characters: a shorter minimum cannot refuse a placeholder. */
const SHORTEST_PLACEHOLDER = 4;

/**
 * Rewrites a JSON Schema of the config so it accepts what the loader accepts before
 * interpolation (src/config/interpolate.ts): every string scalar may hold `${VAR}` or
 * `${VAR:-default}`, and a plain one becomes a number or boolean when its whole text is one. So a
 * number or boolean also accepts a whole placeholder, and a constrained string (pattern, format,
 * enum, length) also accepts any text with a placeholder in it. A string `const` is left alone: it
 * is the `type` that selects a source or connector, which interpolation cannot sensibly supply.
 * The values are checked for real after interpolation, by `check` and at load.
 */
export function acceptEnvPlaceholders(node: JsonSchemaNode): JsonSchemaNode {
  const out: JsonSchemaNode = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(keyword) || keyword.startsWith('x-')) out[keyword] = value;
    else if (SCHEMA_MAPS.has(keyword) && isNode(value))
      out[keyword] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isNode(v) ? acceptEnvPlaceholders(v) : v]));
    else if (Array.isArray(value)) out[keyword] = value.map((v: unknown) => (isNode(v) ? acceptEnvPlaceholders(v) : v));
    else out[keyword] = isNode(value) ? acceptEnvPlaceholders(value) : value;
  }
  const alternative = placeholderFor(out);
  return alternative ? orPlaceholder(out, alternative) : out;
}

function placeholderFor(node: JsonSchemaNode): typeof WHOLE | typeof INTERPOLATED | undefined {
  const types = Array.isArray(node.type) ? (node.type as unknown[]) : [node.type];
  if (types.includes('string')) {
    if (node.const !== undefined) return undefined;
    const constrained = STRING_CONSTRAINTS.some((k) => node[k] !== undefined) || (typeof node.minLength === 'number' && node.minLength > SHORTEST_PLACEHOLDER);
    return constrained ? INTERPOLATED : undefined;
  }
  return types.some((t) => t === 'number' || t === 'integer' || t === 'boolean') ? WHOLE : undefined;
}

/** `{ annotations, anyOf: [the original constraints, placeholder] }`. */
function orPlaceholder(node: JsonSchemaNode, placeholder: object): JsonSchemaNode {
  const outer: JsonSchemaNode = {};
  const constraints: JsonSchemaNode = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-')) outer[keyword] = value;
    else constraints[keyword] = value;
  }
  return { ...outer, anyOf: [constraints, placeholder] };
}

function isNode(value: unknown): value is JsonSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
