import type { Logger } from '../../core/log.js';
import type { MomentsApi } from './moments-api.js';
import { MomentsClient, type MomentsClientOptions } from './moments-client.js';
import { loadMomentsSdk } from './sdk-loader.js';
import { configuredDocuments, type MomentsSourceConfig } from './source-config.js';

/** The source's API: the official SDK when `sdk:` names one, else the bridge's own client. */
export function createMomentsApi(config: MomentsSourceConfig, name: string, configDir: string, logger: Logger): Promise<MomentsApi> | MomentsApi {
  const options: MomentsClientOptions = {
    cognitoEndpoint: config.cognitoEndpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    graphqlUrl: config.graphqlUrl,
    realtimeUrl: config.realtimeUrl,
    realtimeAuth: config.realtimeAuth,
    documents: configuredDocuments(config),
    configPath: `sources.${name}`,
    logger,
    reconnect: { initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay },
  };
  return config.sdk ? loadMomentsSdk(config.sdk, configDir, options) : new MomentsClient(options);
}
