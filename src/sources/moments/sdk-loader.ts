import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MomentsApi, MomentsClientOptions } from './moments-client.js';
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
    throw new MomentsSdkError(`Moments SDK "${packageName}" is not installed where ${configDir} can see it: run \`npm install ${packageName}\` there, or remove \`sdk:\` to use the built-in client`, { cause: err });
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
  if (typeof client.close !== 'function') {
    // An SDK without close() gets a no-op one: the source always calls close() on stop.
    client.close = async () => undefined;
  }
  return client as unknown as MomentsApi;
}
