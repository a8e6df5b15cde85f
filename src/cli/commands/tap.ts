import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadOfflineConfig } from '../../config/load-offline-config.js';
import { BridgeError, InputError, errorMessage } from '../../core/errors.js';
import { redactSecrets } from '../../core/secret-redaction.js';
import { connectToolRedis } from '../../redis/tool-redis.js';
import { createRedisClient } from '../../redis/create-redis-client.js';
import { describeEndpoint } from '../../redis/redis-endpoint.js';
import { TapFilter, type TapFilterOptions } from '../../tap/tap-filter.js';
import { formatTapRecord } from '../../tap/tap-format.js';
import { TAP_LISTENING_TTL_MS, TAP_POLL_MS, TAP_REFRESH_MS, tapChannel, tapListeningKey, type TapRecord } from '../../tap/tap-record.js';
import { CONFIG_OPTION_HELP, findConfigPath } from '../config-path.js';
import { positiveIntOption } from '../number-option.js';

type Out = Pick<NodeJS.WriteStream, 'write'>;

interface TapOptions extends TapFilterOptions {
  config?: string;
  redis?: string;
  prefix?: string;
  json?: boolean;
  count?: number;
}

/** Key prefix without a config: the config schema's default. */
const DEFAULT_PREFIX = 'mb';

/**
 * `moments-bridge tap`: subscribes to the running daemons' tap channel (see TapPublisher) and
 * prints what they accept, route and deliver, until Ctrl-C (or `--count` records).
 */
export function registerTap(program: Command, out: Out = process.stdout, err: Out = process.stderr): void {
  program
    .command('tap')
    .description("Watch a running daemon live: events as they are accepted, where they are routed, and each delivery attempt's outcome (like `vector tap`).")
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--redis <url>', 'Redis URL of the running daemon (default: redis.url from the config; with --redis no config file is needed)')
    .option('--prefix <prefix>', 'key prefix (default: redis.keyPrefix from the config, else mb)')
    .option('--source <name>', 'only events from this source (and their deliveries)')
    .option('--route <name>', 'only events routed by this route, and its deliveries')
    .option('--kind <kind>', 'only events of this kind (and their deliveries), e.g. moment')
    .option('--connector <name>', 'only deliveries to this connector (and events routed to it)')
    .option('--count <n>', 'stop after this many records (the daemons\' "streaming" notices not counted)', positiveIntOption)
    .option('--json', 'one JSON record per line (fields: docs/operations.md)')
    .action((opts: TapOptions) => runTap(opts, out, err));
}

async function runTap(opts: TapOptions, out: Out, err: Out): Promise<void> {
  const path = findConfigPath(opts.config);
  if (!path && !opts.redis) throw new InputError('config_missing', 'no config file: pass -c <file> or --redis <url> (or create ./config.yaml)');
  const loaded = path ? (await loadOfflineConfig(path, { keep: ['redis'], readSecretFiles: true })).loaded : undefined;
  const settings = loaded?.config.redis;
  const prefix = opts.prefix ?? settings?.keyPrefix ?? DEFAULT_PREFIX;
  const target = await connectToolRedis(loaded, opts.redis);
  if (target.origin === 'started') {
    await target.close();
    throw new BridgeError('tap_no_daemon', `no daemon is running on the embedded Redis of ${loaded!.file}: start it with \`moments-bridge run\`, then tap`);
  }
  const where = describeEndpoint(target.endpoint);
  // On a Redis Cluster a PUBLISH reaches subscribers on every node: the subscriber may sit on any.
  const connect = () => createRedisClient(target.endpoint, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const marker = connect();
  const subscriber = connect();
  const timers: NodeJS.Timeout[] = [];
  let stop = (): void => undefined;
  try {
    try {
      await marker.connect();
      await subscriber.connect();
    } catch (cause) {
      throw new BridgeError(
        'tap_redis_unreachable',
        `cannot reach Redis at ${where}: ${errorMessage(cause)} — is the daemon's Redis running? (redis.url, or --redis)`,
        { cause },
      );
    }
    const channel = tapChannel(prefix);
    const key = tapListeningKey(prefix);
    // Subscribed first, so the daemons' greeting to this tap is not missed.
    await subscriber.subscribe(channel);
    const join = () => marker.set(key, randomUUID(), 'PX', TAP_LISTENING_TTL_MS);
    await join();
    // Renewing keeps the value, so the daemons greet only new taps; after a Redis restart, join again.
    const renew = async () => ((await marker.pexpire(key, TAP_LISTENING_TTL_MS)) === 1 ? undefined : join());
    timers.push(setInterval(() => void renew().catch(() => undefined), TAP_REFRESH_MS));
    if (!opts.json) err.write(`tapping ${channel} on ${where}: daemons start streaming within ${TAP_POLL_MS / 1000} s (Ctrl-C to stop)\n`);

    const filter = new TapFilter(opts);
    await new Promise<void>((resolve, reject) => {
      let printed = 0;
      subscriber.on('message', (_channel: string, text: string) => {
        const record = parseRecord(text);
        if (!record || !filter.accepts(record)) return;
        out.write(redactSecrets(opts.json ? JSON.stringify(record) : formatTapRecord(record)) + '\n');
        if (record.type !== 'hello' && opts.count !== undefined && ++printed >= opts.count) resolve();
      });
      subscriber.on('end', () => reject(new BridgeError('tap_redis_lost', `lost the connection to Redis at ${where}`)));
      stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const t of timers) clearInterval(t);
    subscriber.disconnect();
    marker.disconnect();
    await target.close();
  }
}

function parseRecord(text: string): TapRecord | undefined {
  try {
    const r = JSON.parse(text) as TapRecord;
    return r && typeof r === 'object' && typeof r.type === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}
