import { isAbsolute, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { EmbeddedRedis } from './embedded-redis.js';

export interface ToolRedis {
  /** URL to connect to (password applied separately from `redis.password`). */
  url: string;
  /** Where it came from, for one log line. */
  origin: 'flag' | 'config' | 'running-daemon' | 'started';
  /** Stops the embedded server this tool started, if any. */
  close(): Promise<void>;
}

/**
 * The Redis a CLI tool (`dlq`, `replay`, `backfill`) should use: `--redis` if given, else
 * `redis.url`. With `redis: embedded` it is the running daemon's server (found through the port
 * file in `redis.dataDir`), or, when no daemon runs, an embedded server this tool starts on the
 * same data dir (the AOF brings back the jobs) and stops when done.
 */
export async function connectToolRedis(loaded: LoadedConfig, override?: string): Promise<ToolRedis> {
  const none = async () => undefined;
  if (override) return { url: override, origin: 'flag', close: none };
  const { redis } = loaded.config;
  if (redis.url !== 'embedded') return { url: redis.url, origin: 'config', close: none };
  const dataDir = isAbsolute(redis.dataDir) ? redis.dataDir : resolve(loaded.configDir, redis.dataDir);
  const running = await EmbeddedRedis.findRunning(dataDir);
  if (running) return { url: running.url, origin: 'running-daemon', close: none };
  const server = new EmbeddedRedis({ dataDir });
  await server.start();
  return { url: server.url, origin: 'started', close: () => server.stop() };
}
