import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RawItem } from './graphql-client.js';
import type { MomentsApi, Unsubscribe } from './moments-api.js';
import type { MomentsClientOptions } from './moments-client.js';
import { MomentsSdkError } from './moments-errors.js';

const REQUIRED_METHODS = ['login', 'listTriggers', 'getTrigger', 'listMoments', 'getMoment', 'onMoments', 'onTriggerCreated', 'onTriggerUpdated'] as const;

type SdkConstructor = new (options: Record<string, unknown>) => Record<string, unknown>;

/**
 * Loads the official SDK named in `sdk:` from the config file's directory (so a package installed
 * next to the config is found) and checks it has the documented methods before anything runs.
 */
export async function loadMomentsSdk(packageName: string, configDir: string, options: MomentsClientOptions): Promise<MomentsApi> {
  const require = createRequire(join(configDir, 'noop.js'));
  let resolved: string;
  try {
    resolved = require.resolve(packageName);
  } catch (err) {
    throw new MomentsSdkError(
      `Moments SDK "${packageName}" is not installed where ${configDir} can see it: run \`npm install ${packageName}\` there, or remove \`sdk:\` to use the built-in client`,
      { cause: err },
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (err) {
    throw new MomentsSdkError(`Moments SDK "${packageName}" failed to load from ${resolved}: ${(err as Error).message}`, { cause: err });
  }
  const fallback = mod.default as Record<string, unknown> | undefined;
  const Ctor = (mod.MomentsClient ?? fallback?.MomentsClient) as SdkConstructor | undefined;
  if (typeof Ctor !== 'function') throw new MomentsSdkError(`Moments SDK "${packageName}" does not export a MomentsClient class`);
  const client = new Ctor({
    cognitoEndpoint: options.cognitoEndpoint,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    graphqlUrl: options.graphqlUrl,
    realtimeUrl: options.realtimeUrl,
  });
  const missing = REQUIRED_METHODS.filter((m) => typeof client[m] !== 'function');
  if (missing.length) throw new MomentsSdkError(`Moments SDK "${packageName}" lacks ${missing.join(', ')}: it does not implement the documented client API`);
  return adaptSdkClient(client);
}

type SdkMethod = (...args: unknown[]) => unknown;

/**
 * The documented `onMoments` etc. return a `Subscription` with `close()`; older stand-ins return a
 * function. Either becomes an Unsubscribe.
 */
function toUnsubscribe(handle: unknown): Unsubscribe {
  if (typeof handle === 'function') return () => void (handle as () => unknown)();
  const h = handle as { close?: unknown; unsubscribe?: unknown } | null | undefined;
  if (h && typeof h.close === 'function') return () => void (h.close as () => unknown).call(h);
  if (h && typeof h.unsubscribe === 'function') return () => void (h.unsubscribe as () => unknown).call(h);
  return () => undefined;
}

/** The SDK client behind the MomentsApi the source uses (login's `{ accessToken, idToken, refreshToken, tenant }` is not needed). */
function adaptSdkClient(client: Record<string, unknown>): MomentsApi {
  const call = (name: string, ...args: unknown[]): unknown => (client[name] as SdkMethod).apply(client, args);
  const api: MomentsApi = {
    login: async (username, password) => void (await call('login', username, password)),
    listTriggers: async (args) => (await call('listTriggers', args)) as Awaited<ReturnType<MomentsApi['listTriggers']>>,
    getTrigger: async (publicId) => ((await call('getTrigger', publicId)) ?? null) as RawItem | null,
    listMoments: async (args) => (await call('listMoments', args)) as Awaited<ReturnType<MomentsApi['listMoments']>>,
    getMoment: async (publicId) => ((await call('getMoment', publicId)) ?? null) as RawItem | null,
    onMoments: (handler) => toUnsubscribe(call('onMoments', handler)),
    onTriggerCreated: (handler) => toUnsubscribe(call('onTriggerCreated', handler)),
    onTriggerUpdated: (handler) => toUnsubscribe(call('onTriggerUpdated', handler)),
    // The documented SDK has no close(): the subscriptions are closed one by one on stop.
    close: async () => void (typeof client.close === 'function' ? await call('close') : undefined),
  };
  if (typeof client.onConnectionStateChange === 'function') {
    api.onConnectionStateChange = (listener) => toUnsubscribe(call('onConnectionStateChange', listener));
  }
  return api;
}
