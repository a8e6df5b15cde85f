import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { logLevelFromEnv } from '../log.js';
import { aliasProblem } from './alias-budget.js';
import { ConfigValidationError, formatPath, type ConfigIssue } from './config-error.js';
import { didYouMean } from './did-you-mean.js';
import { interpolateEnv } from './interpolate.js';
import { configSchema, type BridgeConfig } from './schema.js';
import { yamlPath } from './yaml-path.js';

export interface LoadedConfig {
  config: BridgeConfig;
  /** Absolute path of the file. */
  file: string;
  /** Its directory: relative paths in the config resolve against it. */
  configDir: string;
  /** Locates a config path in the file (for errors found after loading, e.g. while compiling routes). */
  locate(path: readonly (string | number)[]): { line: number; col: number };
}

/** One problem, located in the file. */
export interface LocatedIssue extends ConfigIssue {
  file: string;
  line: number;
  col: number;
}

/** The config could not be loaded: every problem found, each with file:line:col. */
export class ConfigLoadError extends InputError {
  readonly issues: LocatedIssue[];

  constructor(issues: LocatedIssue[]) {
    issues = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    super('config_invalid', `${issues.length} problem${issues.length === 1 ? '' : 's'} in config:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigLoadError';
    this.issues = issues;
  }
}

/** `file:line:col  path.to.key  message` — the format `check` prints. */
export function formatIssue(issue: LocatedIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}  ${formatPath(issue.path)}  ${issue.message}`;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra cross-checks run on the validated config (e.g. compiling routes); their issues are located too. */
  validate?: (config: BridgeConfig, configDir: string) => Promise<void> | void;
}

/**
 * The largest config file read. Real configs are a few KiB; the bound keeps a wrong path (a log,
 * a dump) or a hostile file from being parsed into memory.
 * @defaultValue 1 MiB
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    // Checked before reading, so a huge file is never loaded.
    checkSize(file, statSync(file).size);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('config_unreadable', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(text, file, options);
}

function checkSize(file: string, bytes: number): void {
  if (bytes <= MAX_CONFIG_BYTES) return;
  throw new InputError(
    'config_too_large',
    `config file ${file} is ${bytes} bytes, over the 1 MiB (${MAX_CONFIG_BYTES} bytes) limit: check the path, or split large parts (templates, fixtures) into their own files`,
  );
}

export async function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  checkSize(file, Buffer.byteLength(text));
  const env = options.env ?? process.env;
  const envLevel = logLevelFromEnv(env);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    // Later syntax errors usually cascade from the first one: report that one, and how many follow.
    const first = doc.errors[0]!;
    const more = doc.errors.length - 1;
    throw new ConfigLoadError([
      {
        file,
        line: first.linePos?.[0]?.line ?? 1,
        col: first.linePos?.[0]?.col ?? 1,
        path: [],
        message: `YAML syntax error: ${first.message}${more ? `\n(${more} more syntax error${more === 1 ? '' : 's'} after it, probably caused by this one)` : ''}`,
      },
    ]);
  }
  const locate = locator(doc, lineCounter);
  const at = (issue: ConfigIssue): LocatedIssue => ({ ...issue, file, ...locate(issue.path) });

  const bomb = aliasProblem(doc);
  if (bomb) throw new ConfigLoadError([{ file, ...lineCounter.linePos(bomb.alias.range?.[0] ?? 0), path: pathOf(doc, bomb.alias), message: bomb.message }]);

  const issues: ConfigIssue[] = interpolateEnv(doc, env);
  // aliasProblem() has bounded what aliases expand to; the library's own count (which throws
  // without a position) would only refuse harmless reuse of one anchor more than 100 times.
  const raw: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
  const parsed = configSchema().safeParse(raw, { error: (iss) => friendlyMessage(iss) });
  if (!parsed.success) {
    // Report broken references too, so one run shows every problem it can.
    issues.push(...parsed.error.issues.flatMap(toConfigIssues), ...crossReferenceIssues(raw));
  }
  if (issues.length) throw new ConfigLoadError(issues.map(at));

  const config = parsed.data as BridgeConfig;
  if (envLevel) config.log.level = envLevel;
  const configDir = dirname(file);
  const refIssues = crossReferenceIssues(config);
  if (options.validate) {
    try {
      await options.validate(config, configDir);
    } catch (err) {
      if (err instanceof ConfigValidationError) refIssues.push(...err.issues);
      else throw err;
    }
  }
  if (refIssues.length) throw new ConfigLoadError(refIssues.map(at));
  return { config, file, configDir, locate };
}

type ZodIssue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

function friendlyMessage(iss: RawIssue): string | undefined {
  if (iss.code === 'invalid_type' && iss.input === undefined) return `required (expected ${String(iss.expected)})`;
  if (iss.code === 'invalid_union' && 'discriminator' in iss && iss.discriminator) {
    const options = (iss as { options?: unknown[] }).options ?? [];
    const got = iss.input;
    const hint = typeof got === 'string' ? didYouMean(got, options.map(String)) : undefined;
    return `unknown ${String(iss.discriminator)} ${JSON.stringify(got)}; expected one of: ${options.join(', ')}${hint ? ` — did you mean "${hint}"?` : ''}`;
  }
  if (iss.code === 'unrecognized_keys') {
    const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
    const known = shape ? Object.keys(shape) : [];
    return JSON.stringify(known);
  }
  return undefined;
}

/** zod issues → config issues; an unknown-keys issue becomes one issue per key, at that key. */
function toConfigIssues(issue: ZodIssue): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    let known: string[] = [];
    try {
      known = JSON.parse(issue.message) as string[];
    } catch {
      /* message was not ours */
    }
    return issue.keys.map((key) => {
      const hint = didYouMean(key, known);
      return {
        path: [...path, key],
        message: `unknown key "${key}"${hint ? ` — did you mean "${hint}"?` : known.length ? ` (allowed: ${known.join(', ')})` : ''}`,
      };
    });
  }
  return [{ path, message: issue.message }];
}

/** Routes naming a source or connector that does not exist (works on raw, unvalidated input too). */
function crossReferenceIssues(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = isRecord(input) ? input : {};
  const sources = isRecord(root.sources) ? Object.keys(root.sources) : [];
  const connectors = isRecord(root.connectors) ? Object.keys(root.connectors) : [];
  const routes = Array.isArray(root.routes) ? root.routes : [];
  routes.forEach((route: unknown, i) => {
    if (!isRecord(route)) return;
    if (Array.isArray(route.from)) {
      route.from.forEach((name: unknown, j) => {
        if (typeof name === 'string' && !sources.includes(name)) issues.push({ path: ['routes', i, 'from', j], message: missing('source', name, sources) });
      });
    }
    if (Array.isArray(route.to)) {
      route.to.forEach((target: unknown, j) => {
        const name = typeof target === 'string' ? target : isRecord(target) && typeof target.connector === 'string' ? target.connector : undefined;
        const path = typeof target === 'string' ? ['routes', i, 'to', j] : ['routes', i, 'to', j, 'connector'];
        if (name !== undefined && !connectors.includes(name)) issues.push({ path, message: missing('connector', name, connectors) });
      });
    }
  });
  return issues;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function missing(what: string, name: string, known: string[]): string {
  const hint = didYouMean(name, known);
  return `no ${what} named "${name}"${hint ? ` — did you mean "${hint}"?` : known.length ? ` (defined: ${known.join(', ')})` : ` (none defined under ${what}s:)`}`;
}

function pathOf(doc: Document, alias: Alias): (string | number)[] {
  let found: (string | number)[] = [];
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (node !== alias) return undefined;
      found = yamlPath(ancestors, node);
      return visit.BREAK;
    },
  });
  return found;
}

/** Maps a config path to the line:col of its node (or of the nearest ancestor that exists). */
function locator(doc: Document, lineCounter: LineCounter) {
  return (path: readonly (string | number)[]): { line: number; col: number } => {
    for (let n = path.length; n >= 0; n--) {
      const offset = offsetOf(doc, path.slice(0, n), n < path.length);
      if (offset !== undefined) {
        const pos = lineCounter.linePos(offset);
        return { line: pos.line, col: pos.col };
      }
    }
    return { line: 1, col: 1 };
  };
}

function offsetOf(doc: Document, path: readonly (string | number)[], isAncestor: boolean): number | undefined {
  if (path.length === 0) return doc.contents?.range?.[0];
  const parent = path.length === 1 ? doc.contents : (doc.getIn(path.slice(0, -1), true) as Node | undefined);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(last));
    if (!pair) return undefined;
    // Point at the key for unknown keys and ancestors, at the value otherwise.
    const value = pair.value as Node | null;
    if (!isAncestor && value && value.range) return value.range[0];
    return (pair.key as Node).range?.[0];
  }
  const node = doc.getIn(path, true) as Node | undefined;
  return node?.range?.[0];
}
