import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { EventFeeder, feederOptions, type FeedCommandOptions } from '../../replay/event-feeder.js';
import { runFeed, type FeedItem } from '../../replay/run-feed.js';
import { sourcePlugins } from '../../sources/registry.js';
import type { Source } from '../../sources/source.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';
import { printJson } from '../print-json.js';

interface BackfillOptions extends FeedCommandOptions {
  config?: string;
  since: string;
  until?: string;
  source?: string[];
  json?: boolean;
}

/** `2025-03-04T10:00:00Z` (or a date) as is; `2h`, `15m`, `7d` as that long before `nowMs`. */
export function parseInstant(value: string, flag: string, nowMs = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new InputError('argument_invalid', `${flag} ${value}: not an ISO time such as 2025-03-04T10:00:00Z`);
    return new Date(ms);
  }
  try {
    return new Date(nowMs - parseDuration(value));
  } catch {
    throw new InputError('argument_invalid', `${flag} ${value}: give a duration back from now (e.g. 30m, 6h, 7d) or an ISO time (e.g. 2025-03-04T10:00:00Z)`);
  }
}

/** `moments-bridge backfill --since …`: the sources' history → routes → queue, with progress. */
export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description(
      'Fetch past events from the sources (those with a history API, e.g. moments) and push them through the routes into the queue. Already queued or delivered deliveries are skipped (dedup), so re-running is safe.',
    )
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .requiredOption('--since <duration|iso>', 'start: a duration back from now (6h, 7d) or an ISO time')
    .option('--until <duration|iso>', 'end (exclusive): a duration back from now or an ISO time (default: now)')
    .option('--source <name...>', 'only these sources (default: every source with a history API)')
    .option('--route <name...>', 'only these routes (as if they were the only ones)')
    .option('--dry-run', 'print which routes and connectors each event would go to; queue nothing')
    .option('--redis <url>', 'Redis URL (default: redis.url; with "embedded", the running daemon\'s)')
    .option('--json', "print the summary (and a dry run's decisions) as one JSON document; progress stays on stderr")
    .action(async (opts: BackfillOptions) => {
      const now = Date.now();
      const since = parseInstant(opts.since, '--since', now);
      const until = opts.until ? parseInstant(opts.until, '--until', now) : new Date(now);
      if (since >= until) throw new InputError('argument_invalid', `--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
      const loaded = await loadValidatedConfig(resolveConfigPath(opts.config));
      const { config } = loaded;
      const names = opts.source ?? Object.keys(config.sources);
      const unknown = names.filter((n) => !(n in config.sources));
      if (unknown.length)
        throw new InputError(
          'source_unknown',
          `no source named ${unknown.map((n) => `"${n}"`).join(', ')} (sources: ${Object.keys(config.sources).join(', ') || 'none'})`,
        );
      const logger = createLogger({ level: 'warn', format: config.log.format });
      const feeder = await EventFeeder.open(feederOptions(loaded, logger, opts));
      try {
        const sources: [string, Source][] = [];
        for (const name of names) {
          const cfg = config.sources[name] as { type: string };
          const source = sourcePlugins.get(cfg.type)!.create(cfg, {
            name,
            redis: feeder.redis,
            keyPrefix: `${config.redis.keyPrefix}:`,
            logger: logger.child({ source: name }),
            configDir: loaded.configDir,
            emit: () => Promise.reject(new Error('backfill reads history; it does not stream')),
            quarantine: async (item) => {
              process.stderr.write(`${name}: skipped an invalid ${item.kind}: ${item.reason}\n`);
            },
          });
          if (source.history) sources.push([name, source]);
          else if (opts.source)
            throw new InputError('backfill_unsupported', `source "${name}" (type ${cfg.type}) has no history API, so it cannot be back-filled`);
          else process.stderr.write(`backfill: source ${name} (type ${cfg.type}) has no history API; skipped\n`);
        }
        if (sources.length === 0)
          throw new InputError('backfill_unsupported', 'no configured source has a history API (moments sources do); nothing to back-fill');
        process.stderr.write(`backfill: ${sources.map(([n]) => n).join(', ')} from ${since.toISOString()} to ${until.toISOString()}\n`);
        async function* items(): AsyncGenerator<FeedItem> {
          for (const [name, source] of sources) for await (const event of source.history!(since, until)) yield { where: name, event };
        }
        const summary = await runFeed(feeder, items(), { label: 'backfill', dryRun: opts.dryRun ?? false, json: opts.json ?? false });
        if (opts.json)
          printJson({
            command: 'backfill',
            dryRun: opts.dryRun ?? false,
            since: since.toISOString(),
            until: until.toISOString(),
            sources: sources.map(([n]) => n),
            ...summary,
          });
      } finally {
        await feeder.close();
      }
    });
}
