import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../../core/errors.js';
import type { ObserverClientLike, ObserverClientOptions } from './observer-api.js';
import { SdkClientAdapter, type SdkClient, type SdkClientConfig } from './sdk-adapter.js';

export type ObserverClientFactory = (options: ObserverClientOptions) => ObserverClientLike;

const REQUIRED_METHODS = [
  'connect',
  'close',
  'fetchOngoingCalls',
  'getSummaryStats',
  'createCallSnapshotsFrame',
  'createClientSnapshotsFrame',
  'createDatabaseFrame',
] as const;
const ADMIN_METHODS = ['getWorkerState', 'getServerState', 'listJobs'] as const;

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
      const root = (
        typeof json.exports === 'object' && json.exports !== null && '.' in json.exports ? (json.exports as Record<string, unknown>)['.'] : json.exports
      ) as unknown;
      const pick = (e: unknown): string | undefined =>
        typeof e === 'string'
          ? e
          : typeof e === 'object' && e !== null
            ? pick((e as Record<string, unknown>).import ?? (e as Record<string, unknown>).node ?? (e as Record<string, unknown>).default)
            : undefined;
      const entry = pick(root) ?? json.module ?? json.main ?? 'index.js';
      return join(dirname(manifest), entry);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** A class, or a function compiled from one (anything `new` works on; arrow functions do not). */
function isConstructor(fn: unknown): fn is new (config: SdkClientConfig) => SdkClient {
  return typeof fn === 'function' && fn.prototype !== undefined;
}

export interface LoadObserverSdkOptions {
  /** The source polls admin state: the package must export `ObserverAdminClient`. @defaultValue false */
  admin?: boolean;
}

/**
 * Loads the official Observer SDK (or a package with the same documented API) and returns a
 * factory that constructs it exactly as seed 001 documents —
 * `new ObserverClient({ connection: { url, getAccessToken } })`, or `new ObserverAdminClient(…)`
 * with the same config when the source polls admin state — behind {@link SdkClientAdapter}.
 */
export async function loadObserverSdk(pkg: string, configDir: string, options: LoadObserverSdkOptions = {}): Promise<ObserverClientFactory> {
  const entry = resolveEntry(pkg, configDir);
  if (!entry) {
    throw new InputError(
      'observer_sdk_missing',
      `Observer sdk "${pkg}" is not installed where the config file is (${configDir}): run "npm install ${pkg}" there, or remove "sdk" to use the built-in client`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError('observer_sdk_invalid', `Observer sdk "${pkg}" (${entry}) failed to load: ${(err as Error).message}`, { cause: err });
  }
  const def = (typeof mod.default === 'object' && mod.default !== null ? mod.default : {}) as Record<string, unknown>;
  const Client = mod.ObserverClient ?? def.ObserverClient;
  const Admin = mod.ObserverAdminClient ?? def.ObserverAdminClient;
  if (!isConstructor(Client)) throw new InputError('observer_sdk_invalid', `Observer sdk "${pkg}" (${entry}) does not export an ObserverClient class`);
  if (options.admin && !isConstructor(Admin)) {
    throw new InputError(
      'observer_sdk_no_admin',
      `Observer sdk "${pkg}" (${entry}) does not export ObserverAdminClient, which "admin" needs: remove "admin" from the source, or install an SDK version that has it`,
    );
  }
  return (clientOptions) => {
    const Ctor = clientOptions.admin && isConstructor(Admin) ? Admin : Client;
    const config: SdkClientConfig = { connection: { url: clientOptions.url, getAccessToken: async () => clientOptions.getAccessToken() } };
    let client: SdkClient;
    try {
      client = new Ctor(config);
    } catch (err) {
      throw new InputError(
        'observer_sdk_invalid',
        `Observer sdk "${pkg}" refused its documented config { connection: { url, getAccessToken } }: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const required = clientOptions.admin ? [...REQUIRED_METHODS, ...ADMIN_METHODS] : REQUIRED_METHODS;
    const missing = required.filter((m) => typeof (client as unknown as Record<string, unknown>)[m] !== 'function');
    if (missing.length > 0)
      throw new InputError(
        'observer_sdk_invalid',
        `Observer sdk "${pkg}" client lacks ${missing.join(', ')}: it does not implement the documented Observer client API`,
      );
    return new SdkClientAdapter(client, clientOptions);
  };
}
