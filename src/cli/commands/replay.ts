import { basename } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { EventFeeder, feederOptions, type FeedCommandOptions } from '../../replay/event-feeder.js';
import { countEvents, readJsonlEvents } from '../../replay/jsonl-events.js';
import { runFeed, type FeedItem } from '../../replay/run-feed.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';
import { printJson } from '../print-json.js';

interface ReplayOptions extends FeedCommandOptions {
  config?: string;
  from: string;
  source?: string[];
  json?: boolean;
}

/** `moments-bridge replay --from events.jsonl`: stored events → routes → queue, with progress. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'Push stored events (JSONL, one {id, source, kind, time, data} per line) through the routes into the queue. Deliveries already queued or delivered are skipped (dedup), so re-running is safe. The running daemon delivers the jobs.',
    )
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .requiredOption('--from <file>', 'JSONL file of events')
    .option('--dry-run', 'print which routes and connectors each event would go to; queue nothing')
    .option('--route <name...>', 'only these routes (as if they were the only ones)')
    .option('--source <name...>', 'only events of these sources')
    .option('--redis <url>', 'Redis URL (default: redis.url; with "embedded", the running daemon\'s)')
    .option('--json', "print the summary (and a dry run's decisions) as one JSON document; progress stays on stderr")
    .action(async (opts: ReplayOptions) => {
      const loaded = await loadValidatedConfig(resolveConfigPath(opts.config));
      const logger = createLogger({ level: 'warn', format: loaded.config.log.format });
      const total = await countEvents(opts.from);
      const feeder = await EventFeeder.open(feederOptions(loaded, logger, opts));
      const name = basename(opts.from);
      async function* items(): AsyncGenerator<FeedItem> {
        for await (const it of readJsonlEvents(opts.from))
          yield 'error' in it ? { where: `${name}:${it.line}`, error: it.error } : { where: `${name}:${it.line}`, event: it.event };
      }
      let invalid: number;
      try {
        const summary = await runFeed(feeder, items(), {
          label: 'replay',
          total,
          dryRun: opts.dryRun ?? false,
          json: opts.json ?? false,
          ...(opts.source ? { sources: opts.source } : {}),
        });
        if (opts.json) printJson({ command: 'replay', dryRun: opts.dryRun ?? false, ...summary });
        ({ invalid } = summary);
      } finally {
        await feeder.close();
      }
      if (invalid > 0)
        throw new InputError(
          'replay_lines_invalid',
          `${invalid} line(s) of ${opts.from} were not events and were skipped (see above); fix them and replay again — the rest is deduplicated`,
        );
    });
}
