import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load-config.js';
import { parseDuration } from '../../duration.js';
import { InputError } from '../../errors.js';
import { listDeadLetters, purgeDeadLetters, retryDeadLetters, showDeadLetter, type DeadLetterScope } from '../../queue/dead-letters.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { connectToolRedis } from '../connect-redis.js';

interface CommonOptions {
  config?: string;
  redis?: string;
  connector?: string;
}

type Out = Pick<NodeJS.WriteStream, 'write'>;

/** Connects to the configured Redis (or `--redis`) and runs `fn` with the dead-letter scope. */
async function withRedis<T>(opts: CommonOptions, fn: (redis: Redis, scope: DeadLetterScope) => Promise<T>): Promise<T> {
  const loaded = await loadConfig(resolveConfigPath(opts.config));
  const { config } = loaded;
  // redis: embedded → the running daemon's server, or one started on its data dir for this command.
  const target = await connectToolRedis(loaded, opts.redis);
  const redis = new Redis(target.url, { maxRetriesPerRequest: 1, lazyConnect: true, ...(config.redis.password ? { password: config.redis.password } : {}) });
  try {
    await redis.connect();
    const scope: DeadLetterScope = {
      prefix: config.redis.keyPrefix,
      cluster: config.redis.cluster,
      ...(opts.connector ? { connector: opts.connector } : {}),
      // SCAN sees one node of a cluster: look in the configured connectors' queues there.
      ...(config.redis.cluster ? { connectors: Object.keys(config.connectors) } : {}),
    };
    return await fn(redis, scope);
  } finally {
    redis.disconnect();
    await target.close();
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--redis <url>', 'Redis URL (default: redis.url from the config)')
    .option('--connector <name>', 'only this connector\'s queue');
}

/** `moments-bridge dlq list|show|retry|purge`: the logic is in src/queue/dead-letters.ts. */
export function register(program: Command, out: Out = process.stdout): void {
  const dlq = program.command('dlq').description('Inspect and re-drive dead letters (deliveries that failed permanently or ran out of retries).');

  common(dlq.command('list'))
    .description('List dead letters, newest first.')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'at most this many per connector', '100')
    .action(async (opts: CommonOptions & { json?: boolean; limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new InputError('dlq_limit_invalid', `--limit must be a positive integer (got "${opts.limit}")`);
      const items = await withRedis(opts, (redis, scope) => listDeadLetters(redis, { ...scope, limit }));
      if (opts.json) {
        out.write(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      if (items.length === 0) {
        out.write('no dead letters\n');
        return;
      }
      for (const d of items) out.write(`${d.id}  ${d.connector}  ${d.route}  ${d.eventId}  attempts=${d.attempts}  ${iso(d.failedAt)}  ${d.reason}\n`);
      out.write(`${items.length} dead letter(s); show one with: moments-bridge dlq show <id>\n`);
    });

  common(dlq.command('show'))
    .description('Show one dead letter: event, route, rendered payload and every attempt.')
    .argument('<id>', 'delivery id (from dlq list)')
    .action(async (id: string, opts: CommonOptions) => {
      const d = await withRedis(opts, (redis, scope) => showDeadLetter(redis, { ...scope, id }));
      if (!d) throw new InputError('dlq_not_found', `no dead letter with id ${id}${opts.connector ? ` in connector ${opts.connector}` : ''}: list them with moments-bridge dlq list`);
      out.write(`${JSON.stringify(d, null, 2)}\n`);
    });

  common(dlq.command('retry'))
    .description('Put dead letters back in their queue with a fresh attempt budget.')
    .argument('[ids...]', 'delivery ids')
    .option('--all', 'every dead letter (of --connector, if given)')
    .action(async (ids: string[], opts: CommonOptions & { all?: boolean }) => {
      if (ids.length === 0 && !opts.all) throw new InputError('dlq_retry_nothing', 'name the dead letters to retry (ids from dlq list), or pass --all');
      if (ids.length > 0 && opts.all) throw new InputError('dlq_retry_ambiguous', 'pass ids or --all, not both');
      const res = await withRedis(opts, (redis, scope) => retryDeadLetters(redis, opts.all ? { ...scope, all: true } : { ...scope, ids }));
      out.write(`retried ${res.retried.length} dead letter(s)\n`);
      if (res.missing.length > 0) throw new InputError('dlq_not_found', `not dead letters (unknown or already retried): ${res.missing.join(', ')}`);
    });

  common(dlq.command('purge'))
    .description('Delete dead letters (all, or those older than --older-than).')
    .option('--older-than <duration>', 'only dead letters older than this, e.g. 7d, 12h')
    .action(async (opts: CommonOptions & { olderThan?: string }) => {
      const olderThanMs = opts.olderThan ? parseDuration(opts.olderThan) : 0;
      const n = await withRedis(opts, (redis, scope) => purgeDeadLetters(redis, { ...scope, olderThanMs }));
      out.write(`purged ${n} dead letter(s)\n`);
    });
}
