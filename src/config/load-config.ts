import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../core/errors.js';
import { logLevelFromEnv } from '../core/log.js';
import { aliasProblem } from './alias-budget.js';
import { ConfigValidationError, formatPath, type ConfigIssue } from '../core/config-error.js';
import { ConfigLoadError, sortedIssues, type LocatedIssue } from './config-load-error.js';
import { didYouMean } from './did-you-mean.js';
import { interpolateEnv } from './interpolate.js';
import { configSchema, type BridgeConfig } from './schema.js';
import { yamlPath } from './yaml-path.js';
import { crossReferenceIssues } from './cross-references.js';
import { partialConfig } from './partial-config.js';

export interface LoadedConfig {
  config: BridgeConfig;
  /** Absolute path of the file. */
  file: string;
  /** Its directory: relative paths in the config resolve against it. */
  configDir: string;
  /** Locates a config path in the file (for errors found after loading, e.g. while compiling routes). */
  locate(path: readonly (string | number)[]): { line: number; col: number };
}

export { ConfigLoadError, formatIssue, sortedIssues, type LocatedIssue } from './config-load-error.js';

/** What `validate` is told about the config it checks. */
export interface ValidationContext {
  /**
   * Connectors defined in the file whose own config is invalid (already reported): the config
   * handed to `validate` leaves them out, and routes may still name them.
   */
  invalidConnectors: readonly string[];
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Extra cross-checks (e.g. compiling connectors and routes); throw a ConfigValidationError and
   * its issues are located too. Also run when the schema rejected parts of the file, on the parts
   * it accepted, so one run reports every stage's problems.
   */
  validate?: (config: BridgeConfig, configDir: string, context: ValidationContext) => Promise<void> | void;
}

/** Everything found in one config file: the validated config when nothing is wrong, else every problem. */
export interface ConfigAnalysis {
  file: string;
  configDir: string;
  locate: LoadedConfig['locate'];
  /** The document after `${VAR}` interpolation, before validation (what lint checks read). */
  raw: unknown;
  /** Set when there are no issues. */
  loaded?: LoadedConfig;
  /** Every problem, each once, in file order. */
  issues: LocatedIssue[];
}

/**
 * The largest config file read. Real configs are a few KiB; the bound keeps a wrong path (a log,
 * a dump) or a hostile file from being parsed into memory.
 * @defaultValue 1 MiB
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  return parseConfig(readConfigText(file), file, options);
}

function readConfigText(file: string): string {
  try {
    // Checked before reading, so a huge file is never loaded.
    checkSize(file, statSync(file).size);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('config_unreadable', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function checkSize(file: string, bytes: number): void {
  if (bytes <= MAX_CONFIG_BYTES) return;
  throw new InputError(
    'config_too_large',
    `config file ${file} is ${bytes} bytes, over the 1 MiB (${MAX_CONFIG_BYTES} bytes) limit: check the path, or split large parts (templates, fixtures) into their own files`,
  );
}

export async function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const analysis = await analyseConfig(text, file, options);
  if (!analysis.loaded) throw new ConfigLoadError(analysis.issues);
  return analysis.loaded;
}

/** Reads and analyses a config file; throws only when nothing in it can be checked (unreadable, YAML syntax, alias bomb). */
export async function analyseConfigFile(path: string, options: LoadConfigOptions = {}): Promise<ConfigAnalysis> {
  const file = resolve(path);
  return analyseConfig(readConfigText(file), file, options);
}

/**
 * Every stage at once — environment variables, schema, references, and `validate` (connectors,
 * templates, CEL, regexes, …) over the parts the schema accepted — so a run shows every problem,
 * not one stage at a time. A problem is reported once: a second report of the same thing at the
 * same key is dropped, and so is anything reported at a key whose `${VAR}` is unset (the unset
 * variable is the cause).
 */
export async function analyseConfig(text: string, file: string, options: LoadConfigOptions = {}): Promise<ConfigAnalysis> {
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

  const envIssues: ConfigIssue[] = interpolateEnv(doc, env);
  // aliasProblem() has bounded what aliases expand to; the library's own count (which throws
  // without a position) would only refuse harmless reuse of one anchor more than 100 times.
  const raw: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
  const parsed = configSchema().safeParse(raw, { error: (iss) => friendlyMessage(iss) });
  const found: ConfigIssue[] = [];
  let checked: { config: BridgeConfig; invalidConnectors: readonly string[] };
  if (parsed.success) {
    checked = { config: parsed.data as BridgeConfig, invalidConnectors: [] };
    if (envLevel) checked.config.log.level = envLevel;
  } else {
    found.push(...firstPerKey(parsed.error.issues.flatMap(toConfigIssues)));
    checked = partialConfig(raw);
  }
  found.push(...crossReferenceIssues(raw));
  const configDir = dirname(file);
  if (options.validate) {
    try {
      await options.validate(checked.config, configDir, { invalidConnectors: checked.invalidConnectors });
    } catch (err) {
      if (err instanceof ConfigValidationError) found.push(...err.issues);
      else throw err;
    }
  }
  const issues = sortedIssues(onceEach(envIssues, found).map(at));
  const analysis: ConfigAnalysis = { file, configDir, locate, raw, issues };
  if (!issues.length) analysis.loaded = { config: checked.config, file, configDir, locate };
  return analysis;
}

/** One schema complaint per key: a value that is not a URL is not also "not http(s)". */
function firstPerKey(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = formatPath(i.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The env issues, then every other issue not already reported and not at (or under) a key whose variable is unset. */
function onceEach(envIssues: ConfigIssue[], others: ConfigIssue[]): ConfigIssue[] {
  const unset = envIssues.map((i) => formatPath(i.path));
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const issue of [...envIssues, ...others]) {
    const path = formatPath(issue.path);
    const key = `${path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    if (!envIssues.includes(issue) && unset.some((u) => path === u || path.startsWith(`${u}.`) || path.startsWith(`${u}[`))) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
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
