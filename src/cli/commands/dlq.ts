import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import {
  countDeadLetters,
  pageDeadLetters,
  purgeDeadLetters,
  retryDeadLetters,
  showDeadLetter,
  type DeadLetter,
  type DeadLetterSummary,
} from '../../queue/dead-letters.js';
import { CONFIG_OPTION_HELP } from '../config-path.js';
import { confirm, type PromptIo } from '../confirm.js';
import { withDeadLetters, type DeadLetterTargetOptions } from '../dead-letter-target.js';
import { countOption, positiveIntOption } from '../number-option.js';
import { printJson } from '../print-json.js';
import { textTable } from '../../core/text-table.js';

type Out = Pick<NodeJS.WriteStream, 'write'>;

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The `--json` form of a dead letter: times as ISO-8601 strings, as everywhere in the CLI. */
function summaryJson(d: DeadLetterSummary) {
  return {
    id: d.id,
    connector: d.connector,
    route: d.route,
    eventId: d.eventId,
    attempts: d.attempts,
    enqueuedAt: iso(d.enqueuedAt),
    failedAt: iso(d.failedAt),
    reason: d.reason,
  };
}

function deadLetterJson(d: DeadLetter) {
  return { ...summaryJson(d), event: d.event, payload: d.payload, history: d.history.map((h) => ({ ...h, at: iso(h.at) })) };
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--redis <url>', 'Redis URL (default: redis.url from the config; with --redis no config file is needed)')
    .option('--prefix <prefix>', 'key prefix (default: redis.keyPrefix from the config, else mb)')
    .option('--connector <name>', "only this connector's queue")
    .option('--json', 'print one JSON document (fields: docs/operations.md)');
}

const perConnector = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');

/** `moments-bridge dlq list|show|retry|purge`: the logic is in src/queue/dead-letters.ts. */
export function register(program: Command, out: Out = process.stdout, prompt: PromptIo = { input: process.stdin, output: process.stderr }): void {
  const dlq = program.command('dlq').description('Inspect and re-drive dead letters (deliveries that failed permanently or ran out of retries).');

  common(dlq.command('list'))
    .description('List dead letters, newest first, a page at a time, with the total.')
    .option('--limit <n>', 'dead letters per page', positiveIntOption, 100)
    .option('--offset <n>', 'skip this many (newest first)', countOption, 0)
    .action(async (opts: DeadLetterTargetOptions & { json?: boolean; limit: number; offset: number }) => {
      const page = await withDeadLetters(opts, (redis, scope) => pageDeadLetters(redis, { ...scope, limit: opts.limit, offset: opts.offset }));
      if (opts.json)
        return printJson({ total: page.total, offset: opts.offset, limit: opts.limit, counts: page.counts, items: page.items.map(summaryJson) }, out);
      if (page.total === 0) return void out.write('no dead letters\n');
      if (page.items.length === 0) return void out.write(`no dead letters at offset ${opts.offset} (${page.total} in all)\n`);
      const header = ['ID', 'CONNECTOR', 'ROUTE', 'EVENT', 'ATTEMPTS', 'FAILED AT', 'REASON'];
      const rows = page.items.map((d) => [d.id, d.connector, d.route, d.eventId, String(d.attempts), iso(d.failedAt) ?? '-', d.reason]);
      out.write(`${textTable([header, ...rows])}\n`);
      const last = opts.offset + page.items.length;
      const next = last < page.total ? `; next page: --offset ${last}` : '';
      out.write(
        `showing ${opts.offset + 1}–${last} of ${page.total} dead letter(s) (${perConnector(page.counts)})${next}; show one with: moments-bridge dlq show <id>\n`,
      );
    });

  common(dlq.command('show'))
    .description('Show one dead letter: event, route, rendered payload and every attempt.')
    .argument('<id>', 'delivery id (from dlq list)')
    .action(async (id: string, opts: DeadLetterTargetOptions & { json?: boolean }) => {
      const d = await withDeadLetters(opts, (redis, scope) => showDeadLetter(redis, { ...scope, id }));
      if (!d)
        throw new InputError(
          'dlq_not_found',
          `no dead letter with id ${id}${opts.connector ? ` in connector ${opts.connector}` : ''}: list them with moments-bridge dlq list`,
        );
      if (opts.json) return printJson(deadLetterJson(d), out);
      const lines = [
        `id          ${d.id}`,
        `connector   ${d.connector}`,
        `route       ${d.route}`,
        `event       ${d.eventId} (${d.event.source} ${d.event.kind}, ${d.event.time})`,
        `enqueued    ${iso(d.enqueuedAt)}`,
        `failed      ${iso(d.failedAt) ?? '-'}`,
        `attempts    ${d.attempts}`,
        `reason      ${d.reason}`,
        'history',
        ...d.history.map((h) => `  ${h.attempt}  ${iso(h.at)}  ${h.outcome}  ${h.reason}`),
        'payload',
        JSON.stringify(d.payload, null, 2),
        'event data',
        JSON.stringify(d.event.data, null, 2),
      ];
      out.write(`${lines.join('\n')}\n`);
    });

  common(dlq.command('retry'))
    .description('Put dead letters back in their queue with a fresh attempt budget.')
    .argument('[ids...]', 'delivery ids')
    .option('--all', 'every dead letter (of --connector, if given)')
    .action(async (ids: string[], opts: DeadLetterTargetOptions & { all?: boolean; json?: boolean }) => {
      if (ids.length === 0 && !opts.all) throw new InputError('dlq_retry_nothing', 'name the dead letters to retry (ids from dlq list), or pass --all');
      if (ids.length > 0 && opts.all) throw new InputError('dlq_retry_ambiguous', 'pass ids or --all, not both');
      const res = await withDeadLetters(opts, (redis, scope) => retryDeadLetters(redis, opts.all ? { ...scope, all: true } : { ...scope, ids }));
      if (opts.json) printJson({ retried: res.retried, missing: res.missing }, out);
      else out.write(`retried ${res.retried.length} dead letter(s)\n`);
      if (res.missing.length > 0) throw new InputError('dlq_not_found', `not dead letters (unknown or already retried): ${res.missing.join(', ')}`);
    });

  common(dlq.command('purge'))
    .description('Delete dead letters (all, or those older than --older-than). Shows what it would delete and asks first; --yes for scripts.')
    .option('--older-than <duration>', 'only dead letters older than this, e.g. 7d, 12h')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .option('-y, --yes', 'do not ask (needed when stdin is not a terminal)')
    .action(async (opts: DeadLetterTargetOptions & { olderThan?: string; dryRun?: boolean; yes?: boolean; json?: boolean }) => {
      const olderThanMs = opts.olderThan ? parseDuration(opts.olderThan) : 0;
      const older = opts.olderThan ? ` older than ${opts.olderThan}` : '';
      const report = (matched: Record<string, number>, total: number, purged: number) =>
        printJson({ dryRun: opts.dryRun ?? false, olderThan: opts.olderThan ?? null, matched, total, purged }, out);
      await withDeadLetters(opts, async (redis, scope) => {
        const matched = await countDeadLetters(redis, { ...scope, olderThanMs });
        const total = Object.values(matched).reduce((a, b) => a + b, 0);
        if (total === 0) return opts.json ? report(matched, 0, 0) : void out.write(`no dead letters${older} to purge\n`);
        // The preview goes to stderr under --json, so stdout stays one JSON document.
        const preview = `${opts.dryRun ? 'would purge' : 'purging'} ${total} dead letter(s)${older}: ${perConnector(matched)}\n`;
        (opts.json ? prompt.output : out).write(preview);
        if (opts.dryRun) return opts.json ? report(matched, total, 0) : void out.write('dry run: nothing was deleted\n');
        if (!opts.yes) {
          if (!prompt.input.isTTY)
            throw new InputError(
              'dlq_purge_unconfirmed',
              `stdin is not a terminal, so dlq purge cannot ask: pass --yes to delete these ${total} dead letter(s), or --dry-run to only show them`,
            );
          if (!(await confirm(`Delete ${total} dead letter(s)?`, prompt))) throw new InputError('dlq_purge_cancelled', 'cancelled: nothing was deleted');
        }
        const purged = await purgeDeadLetters(redis, { ...scope, olderThanMs });
        return opts.json ? report(matched, total, purged) : void out.write(`purged ${purged} dead letter(s)\n`);
      });
    });
}
