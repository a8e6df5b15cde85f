import type { Logger } from '../../src/core/log.js';
import { createLogger } from '../../src/core/log.js';
import { startMomentsSimulator, type MomentsSimulator } from './moments-simulator.js';
import type { SchemaVariant } from './simulator-schema.js';

export interface RunMomentsSimulatorOptions {
  /** @defaultValue 4510 */
  port?: number;
  /** @defaultValue 127.0.0.1 */
  host?: string;
  /** Generated moments per second; 0 disables the generator. @defaultValue 1 */
  rate?: number;
  /** @defaultValue 10 */
  athletes?: number;
  /** @defaultValue 3600 */
  tokenTtlSeconds?: number;
  /** The engine's schema variant (see MomentsSimulatorOptions.schema). @defaultValue 'vendor' */
  schema?: SchemaVariant;
  /** @defaultValue true */
  introspection?: boolean;
  logger?: Logger;
}

/**
 * `moments-bridge simulate moments`: starts the simulator with the generator and prints the
 * source config that points the bridge at it. Resolves with the running simulator; the caller
 * stops it on SIGINT/SIGTERM.
 */
export async function runMomentsSimulator(opts: RunMomentsSimulatorOptions = {}): Promise<MomentsSimulator> {
  const logger = opts.logger ?? createLogger();
  const rate = opts.rate ?? 1;
  const sim = await startMomentsSimulator({
    port: opts.port ?? 4510,
    host: opts.host,
    tokenTtlSeconds: opts.tokenTtlSeconds,
    schema: opts.schema,
    introspection: opts.introspection,
    logger,
    generator: rate > 0 ? { rate, athletes: opts.athletes ?? 10 } : undefined,
  });
  logger.info(
    {
      cognitoEndpoint: sim.cognitoEndpoint,
      graphqlUrl: sim.graphqlUrl,
      schema: sim.schema,
      introspection: sim.introspection,
      realtimeUrl: sim.realtimeUrl,
      control: `${sim.url}/_control/ (POST moments, triggers, drop-sockets, keepalives/pause, fail-next, expire-tokens, generator/start …; GET stats)`,
      rate,
    },
    'Moments Engine simulator running. Source config: { type: moments, cognitoEndpoint, clientId: sim-client, username: demo, password: demo-password, graphqlUrl }',
  );
  return sim;
}
