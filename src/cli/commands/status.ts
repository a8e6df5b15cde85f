import type { Command } from 'commander';
import { loadOfflineConfig } from '../../config/load-offline-config.js';
import { errorMessage } from '../../core/errors.js';
import { formatStatus } from '../../status/status-format.js';
import { fetchStatus, withRates, type StatusSnapshot } from '../../status/status-snapshot.js';
import { CONFIG_OPTION_HELP, findConfigPath } from '../config-path.js';
import { positiveIntOption } from '../number-option.js';
import { printJson } from '../print-json.js';

type Out = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };

interface StatusOptions {
  config?: string;
  url?: string;
  watch?: boolean;
  interval: number;
  json?: boolean;
}

/** Where the daemon's ops server listens without --url or a config: the schema's defaults. */
const DEFAULT_URL = 'http://127.0.0.1:9464';

/**
 * `moments-bridge status`: per source state and lag, per connector rates, queue depth, retries and
 * dead letters, read from a running daemon's `/readyz` and `/metrics`.
 */
export function registerStatus(program: Command, out: Out = process.stdout): void {
  program
    .command('status')
    .alias('top')
    .description("Show a running daemon's sources, connectors, queue depth, retries and dead letters (like `vector top`); --watch refreshes it.")
    .option('-c, --config <file>', `${CONFIG_OPTION_HELP}; gives the ops server's address (server.host, server.port)`)
    .option('--url <url>', `the daemon's ops server (default: from the config, else ${DEFAULT_URL})`)
    .option('-w, --watch', 'refresh every --interval seconds, with rates from successive scrapes (Ctrl-C to stop)')
    .option('--interval <seconds>', 'refresh period for --watch', positiveIntOption, 2)
    .option('--json', 'print the snapshot as JSON (with --watch: one line per refresh; fields: docs/operations.md)')
    .action(async (opts: StatusOptions) => {
      const url = opts.url ?? (await urlFromConfig(opts.config)) ?? DEFAULT_URL;
      const first = await fetchStatus(url);
      if (!opts.watch) {
        if (opts.json) return printJson(first, out);
        return void out.write(`${formatStatus(first)}\n`);
      }
      await watch(url, first, opts, out);
    });
}

async function urlFromConfig(given: string | undefined): Promise<string | undefined> {
  const path = findConfigPath(given);
  if (!path) return undefined;
  const { server } = (await loadOfflineConfig(path, { keep: ['server'] })).loaded.config;
  // A daemon bound to every interface answers on loopback too.
  const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
}

/** Redraws until Ctrl-C; a scrape that fails is shown and retried (the daemon may be restarting). */
async function watch(url: string, first: StatusSnapshot, opts: StatusOptions, out: Out): Promise<void> {
  const clear = out.isTTY && !opts.json ? '\x1b[2J\x1b[H' : '';
  const show = (s: StatusSnapshot) => out.write(opts.json ? `${JSON.stringify(s)}\n` : `${clear}${formatStatus(s)}\n\n`);
  show(first);
  let prev = first;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      fetchStatus(url)
        .then((next) => {
          show(withRates(prev, next));
          prev = next;
        })
        .catch((err: unknown) => out.write(`${clear}${errorMessage(err)} — retrying every ${opts.interval} s\n\n`));
    }, opts.interval * 1000);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
