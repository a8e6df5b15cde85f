import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { ProbeResult } from '../../connectors/connector.js';
import { deliveryOptionsSchema } from '../queue/delivery-options-schema.js';
import { connectorPlugins } from '../../connectors/registry.js';
import type { LoadedConfig } from '../config/load-config.js';
import { errorMessage } from '../core/errors.js';
import { connectRedisClient } from '../redis/connect-redis.js';
import { isCluster } from '../redis/redis-client.js';
import { describeEndpoint, redisEndpoint } from '../redis/redis-endpoint.js';
import { EmbeddedRedis } from '../redis/embedded-redis.js';
import { probeMomentsSource } from '../sources/moments/moments-probe.js';
import type { MomentsSourceConfig } from '../sources/moments/source-config.js';

/** One thing `check --online` connected to (or could not), by its config path. */
export interface OnlineCheck extends ProbeResult {
  /** `redis`, `sources.<name>`, `connectors.<name>`. */
  target: string;
  /** What a moments source resolved: each operation's document and where it came from. */
  lines?: string[];
  /** Failures, one message each (a moments source can have several). */
  problems?: string[];
}

/**
 * How long one online check may take.
 * @defaultValue 15 s
 */
export const ONLINE_CHECK_TIMEOUT_MS = 15_000;

const deliveryKeys = new Set(Object.keys(deliveryOptionsSchema.shape));

/**
 * `check --online`: connects to Redis, logs in to every moments source (and resolves its GraphQL
 * documents), and makes each connector's harmless auth call — all at once, reported in config
 * order. Nothing is written anywhere.
 */
export async function runOnlineChecks(loaded: LoadedConfig, timeoutMs = ONLINE_CHECK_TIMEOUT_MS): Promise<OnlineCheck[]> {
  const { config } = loaded;
  const checks: Promise<OnlineCheck>[] = [settle('redis', () => checkRedis(loaded, timeoutMs))];
  for (const [name, source] of Object.entries(config.sources)) {
    const type = (source as { type: string }).type;
    checks.push(
      settle(`sources.${name}`, () =>
        type === 'moments' ? checkMoments(name, source as MomentsSourceConfig) : Promise.resolve(notChecked(`no login check for ${type} sources`)),
      ),
    );
  }
  for (const [name, raw] of Object.entries(config.connectors)) {
    const cfg = raw as { type: string } & Record<string, unknown>;
    const plugin = connectorPlugins.get(cfg.type);
    checks.push(
      settle(`connectors.${name}`, async () => {
        if (!plugin?.probe) return notChecked(`no harmless call exists for ${cfg.type}; nothing sent`);
        const own = Object.fromEntries(Object.entries(cfg).filter(([k]) => !deliveryKeys.has(k))) as z.output<typeof plugin.configSchema>;
        return plugin.probe(own, { name, configDir: loaded.configDir, signal: AbortSignal.timeout(timeoutMs) });
      }),
    );
  }
  return Promise.all(checks);
}

async function checkRedis(loaded: LoadedConfig, timeoutMs: number): Promise<ProbeResult> {
  const { redis } = loaded.config;
  let url: string | undefined = Array.isArray(redis.cluster) ? undefined : redis.url;
  if (url === 'embedded') {
    const dataDir = isAbsolute(redis.dataDir) ? redis.dataDir : resolve(loaded.configDir, redis.dataDir);
    const running = await EmbeddedRedis.findRunning(dataDir);
    if (!running) return notChecked(`embedded: the daemon starts its own redis-server (AOF in ${dataDir}); none runs now`);
    url = running.url;
  }
  const endpoint = redisEndpoint(redis, url);
  const client = await connectRedisClient(endpoint, { connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const where = describeEndpoint(endpoint);
    if (!isCluster(client)) return { status: 'ok', detail: `${where}: connected${version ? ` (Redis ${version})` : ''}` };
    const state = /cluster_state:(\w+)/.exec(String(await client.cluster('INFO')))?.[1] ?? 'unknown';
    const masters = client.nodes('master').length;
    return {
      status: state === 'ok' ? 'ok' : 'failed',
      detail: `${where}: connected${version ? ` (Redis ${version})` : ''}, cluster_state ${state}, ${masters} master(s)`,
    };
  } finally {
    client.disconnect();
  }
}

async function checkMoments(name: string, source: MomentsSourceConfig): Promise<Pick<OnlineCheck, 'status' | 'detail' | 'lines' | 'problems'>> {
  const report = await probeMomentsSource(name, source);
  if (report.problems.length) return { status: 'failed', detail: `${report.problems.length} problem(s)`, lines: report.lines, problems: report.problems };
  return { status: 'ok', detail: 'logged in; every operation has a document', lines: report.lines };
}

/** Runs one check; anything it throws (network errors included) is its failure, not the command's. */
async function settle(target: string, run: () => Promise<Omit<OnlineCheck, 'target'>>): Promise<OnlineCheck> {
  try {
    return { target, ...(await run()) };
  } catch (err) {
    return { target, status: 'failed', detail: errorMessage(err) };
  }
}

function notChecked(detail: string): ProbeResult {
  return { status: 'not-checked', detail };
}
