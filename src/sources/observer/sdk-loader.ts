import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../../errors.js';
import type { ObserverClientLike, ObserverClientOptions } from './observer-api.js';

export type ObserverClientFactory = (options: ObserverClientOptions) => ObserverClientLike;

const REQUIRED_METHODS = ['connect', 'close', 'fetchOngoingCalls', 'getSummaryStats', 'createCallSnapshotsFrame', 'createClientSnapshotsFrame', 'createDatabaseFrame'] as const;

/**
 * Finds the entry file of `pkg` as installed next to the config file. `require.resolve` covers
 * CommonJS and unconditional `exports`; an ESM-only package (`exports` with only an `import`
 * condition) is found by walking up to its package.json.
 */
function resolveEntry(pkg: string, configDir: string): string | undefined {
  const requireFrom = createRequire(join(resolve(configDir), 'observer-sdk-resolver.js'));
  try {
    return requireFrom.resolve(pkg);
  } catch {
    // fall through to the manual lookup
  }
  for (let dir = resolve(configDir); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; module?: string; main?: string };
      const root = (typeof json.exports === 'object' && json.exports !== null && '.' in json.exports ? (json.exports as Record<string, unknown>)['.'] : json.exports) as unknown;
      const pick = (e: unknown): string | undefined =>
        typeof e === 'string' ? e : typeof e === 'object' && e !== null ? pick((e as Record<string, unknown>).import ?? (e as Record<string, unknown>).node ?? (e as Record<string, unknown>).default) : undefined;
      const entry = pick(root) ?? json.module ?? json.main ?? 'index.js';
      return join(dirname(manifest), entry);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function isConstructor(fn: (...args: never[]) => unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/**
 * Loads an Observer SDK package that implements the documented client API. The package exports
 * either `createObserverClient(options)` or a class `ObserverClient` (named or default) taking
 * `{ url, getAccessToken, requestTimeoutMs, pingIntervalMs }`.
 */
export async function loadObserverSdk(pkg: string, configDir: string): Promise<ObserverClientFactory> {
  const entry = resolveEntry(pkg, configDir);
  if (!entry) {
    throw new InputError('observer_sdk_missing', `Observer sdk "${pkg}" is not installed where the config file is (${configDir}): run "npm install ${pkg}" there, or remove "sdk" to use the built-in client`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError('observer_sdk_invalid', `Observer sdk "${pkg}" (${entry}) failed to load: ${(err as Error).message}`, { cause: err });
  }
  const def = (mod.default ?? {}) as Record<string, unknown>;
  const factory = mod.createObserverClient ?? def.createObserverClient;
  const ctor = mod.ObserverClient ?? def.ObserverClient ?? (typeof mod.default === 'function' ? mod.default : undefined);
  let create: ObserverClientFactory;
  if (typeof factory === 'function') create = (options) => (factory as (o: ObserverClientOptions) => ObserverClientLike)(options);
  else if (typeof ctor === 'function' && isConstructor(ctor as (...args: never[]) => unknown)) create = (options) => new (ctor as new (o: ObserverClientOptions) => ObserverClientLike)(options);
  else throw new InputError('observer_sdk_invalid', `Observer sdk "${pkg}" exports neither createObserverClient() nor an ObserverClient class`);
  return (options) => {
    const client = create(options);
    const missing = REQUIRED_METHODS.filter((m) => typeof (client as unknown as Record<string, unknown>)[m] !== 'function');
    if (missing.length > 0) throw new InputError('observer_sdk_invalid', `Observer sdk "${pkg}" client lacks ${missing.join(', ')}: it does not implement the documented Observer client API`);
    return client;
  };
}
