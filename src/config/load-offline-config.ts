import { readFileSync } from 'node:fs';
import { parseDocument, visit, type Document } from 'yaml';
import { interpolateEnv } from './interpolate.js';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { loadValidatedConfig } from './load-validated-config.js';
import { configSchema } from './schema.js';
import { withoutSecretFiles } from '../core/secret-field.js';
import { yamlPath } from './yaml-path.js';

export interface OfflineConfigOptions {
  /**
   * Top-level sections the command does use: an unset variable there is still an error.
   * Everything else (upstream logins, sink URLs and credentials, …) gets a stand-in.
   */
  keep: readonly string[];
  /** Compile connectors and routes, as `check` and `run` do. @defaultValue false */
  validate?: boolean;
  /**
   * Read `{ file: … }` secrets. A secret's field is not known where the file is read, so this is
   * all or nothing: `dlq` reads them (a `redis.password` file is needed), `test` and `route` do not.
   * @defaultValue false
   */
  readSecretFiles?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface OfflineConfig {
  loaded: LoadedConfig;
  /** Unset environment variables that were given a stand-in value, in file order. */
  standIns: string[];
}

/**
 * Loads a config for a command that connects to no source and no sink (`test`, `route`, `dlq`):
 * an unset `${VAR}` outside `keep` gets a stand-in value shaped to pass its field's check, and
 * secret files are not read. `run` and `check` use the plain loaders, so they still demand every
 * credential. The stand-ins are reported, since a template may render one into a payload.
 */
export async function loadOfflineConfig(path: string, options: OfflineConfigOptions): Promise<OfflineConfig> {
  const env = options.env ?? process.env;
  const load = async (): Promise<OfflineConfig> => {
    const standIns = fitStandIns(readDocument(path), env, options.keep);
    const loadEnv = { ...env, ...standIns };
    const loaded = options.validate ? await loadValidatedConfig(path, { env: loadEnv }) : await loadConfig(path, { env: loadEnv });
    return { loaded, standIns: Object.keys(standIns) };
  };
  return options.readSecretFiles ? load() : withoutSecretFiles(load);
}

function readDocument(path: string): Document | undefined {
  try {
    const doc = parseDocument(readFileSync(path, 'utf8'), { uniqueKeys: true });
    return doc.errors.length ? undefined : doc;
  } catch {
    return undefined; // the loader reports an unreadable or broken file with its position
  }
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g;

/** Unset variables (no default) outside `keep`, each with the config paths that use it. */
function unsetVariables(doc: Document, env: NodeJS.ProcessEnv, keep: readonly string[]): Map<string, (string | number)[][]> {
  const uses = new Map<string, (string | number)[][]>();
  const kept = new Set<string>();
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const path = yamlPath(ancestors, node);
      for (const [, name, fallback] of node.value.matchAll(PLACEHOLDER)) {
        if (fallback !== undefined || (env[name!] ?? '') !== '') continue;
        if (keep.includes(String(path[0]))) kept.add(name!);
        uses.set(name!, [...(uses.get(name!) ?? []), path]);
      }
    },
  });
  for (const name of kept) uses.delete(name);
  return uses;
}

/**
 * Stand-in shapes, tried in order until the field accepts one: text, http(s) URL, ws(s) URL,
 * number, and a Standard Webhooks secret (`whsec_<base64>`, the one secret whose format is checked).
 */
function candidates(name: string): string[] {
  const host = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return [`unset-${host}`, `https://${host}.unset.invalid/`, `wss://${host}.unset.invalid/`, '1', `whsec_${Buffer.from(`unset-${host}`).toString('base64')}`];
}
const SHAPES = 5;

/**
 * Picks, for each unset variable, the first stand-in its fields accept, validating the whole
 * config once per shape (five times at most). A variable no shape fits stays unset, so the
 * loader reports it as usual.
 */
function fitStandIns(doc: Document | undefined, env: NodeJS.ProcessEnv, keep: readonly string[]): Record<string, string> {
  if (!doc) return {};
  const uses = unsetVariables(doc, env, keep);
  const fitted: Record<string, string> = {};
  let open = [...uses.keys()];
  for (let shape = 0; open.length > 0 && shape < SHAPES; shape++) {
    const trial = Object.fromEntries(open.map((name) => [name, candidates(name)[shape]!]));
    const copy = doc.clone();
    interpolateEnv(copy, { ...env, ...fitted, ...trial });
    const parsed = configSchema().safeParse(copy.toJS({ maxAliasCount: -1 }) ?? {});
    const issuePaths = parsed.success ? [] : parsed.error.issues.map((i) => i.path.map(String));
    const refused = (name: string) => uses.get(name)!.some((use) => issuePaths.some((p) => use.every((k, i) => String(k) === p[i])));
    for (const name of open) if (!refused(name)) fitted[name] = trial[name]!;
    open = open.filter((name) => !(name in fitted));
  }
  return Object.fromEntries([...uses.keys()].filter((name) => name in fitted).map((name) => [name, fitted[name]!]));
}
